"""The saved index (issue 20): ``dedup index build/add/info``, ``dedup clean --against`` and
``dedup threshold``, through the CLI (in-process and one subprocess) and the library."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BANNER, article, read_jsonl, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.cli import main
from dedup.saved_index import open_index, threshold_table

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def reprint(text: str, rng: random.Random) -> str:
    """A reprint: one word of the story changed, as a wire copy is edited."""
    words = text.split(" ")
    words[rng.randrange(40)] = "reportedly"
    return " ".join(words)


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """Two halves of a corpus: the first with integer ids, the second with its own stories,
    reprints of first-half stories (ids ``reprint-of-K``), and one story printed twice inside it."""
    rng = random.Random(7)
    first = [{"id": k, "text": article(rng, f"topic{k}") + ("\n\n" + BANNER if k % 3 == 1 else "")}
             for k in range(40)]
    second = [{"id": f"new-{k}", "text": article(rng, f"fresh{k}") + ("\n\n" + BANNER if k == 5 else "")}
              for k in range(30)]
    planted = {}
    for k in range(0, 40, 5):
        planted[f"reprint-of-{k}"] = k
        second.insert(rng.randrange(len(second) + 1), {"id": f"reprint-of-{k}", "text": reprint(first[k]["text"], rng)})
    second.append({"id": "new-0-again", "text": second[[r["id"] for r in second].index("new-0")]["text"]})
    directory = tmp_path_factory.mktemp("halves")
    a, b = directory / "first.jsonl", directory / "second.jsonl"
    write_jsonl(a, first)
    write_jsonl(b, second)
    return a, b, planted


@pytest.fixture(scope="module")
def first_index(halves, tmp_path_factory):
    """An index of the first half, built once (tests that change an index build their own)."""
    index = tmp_path_factory.mktemp("index") / "first.idx"
    built = run("index", "build", halves[0], "-o", index)
    assert built.exit_code == 0, built.output
    return index


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_build_add_info_round_trip(tmp_path, halves):
    a, b, _ = halves
    index = tmp_path / "news.idx"
    built = run("index", "build", a, "-o", index, "--jobs", "1")
    assert built.exit_code == 0, built.output
    assert built.stderr.strip() == f"{index}: 40 documents indexed"
    first_segment = files_of(index / "segments" / "00000")
    added = run("index", "add", index, b, "--jobs", "1")
    assert added.exit_code == 0, added.output
    assert files_of(index / "segments" / "00000") == first_segment  # old segments never rewritten
    info = json.loads(run("index", "info", index, "--json").stdout)
    assert [s["documents"] for s in info["segments"]] == [40, 38]  # the repeat inside b is not indexed
    assert info["documents"] == 78 and info["format_version"] == 1
    assert info["matching"] == {"num_perm": 128, "seed": 1, "shingle_size": 5, "unit_shingle_size": 3,
                                "fold_digits": False, "fold_punctuation": True, "threshold": 0.8,
                                "bands": 18, "rows": 7}
    text = run("index", "info", index).stdout
    assert "78 in 2 segments" in text and "bands=18, rows=7" in text
    opened = open_index(str(index))
    assert len(opened) == 78
    assert opened.segments[0].signatures.shape == (40, 128)
    assert opened.segments[0].signatures.dtype.name == "uint32"
    ids = [json.loads(line) for line in (index / "segments" / "00000" / "ids.jsonl").read_text().splitlines()]
    assert ids == list(range(40))  # with their JSON type
    ids = (index / "segments" / "00001" / "ids.jsonl").read_text().splitlines()
    assert '"new-0"' in ids and '"new-0-again"' not in ids


def test_cross_half_reprints_removed_with_their_first_half_ids(tmp_path, halves, first_index):
    a, b, planted = halves
    index = first_index
    out, report = tmp_path / "second.clean.jsonl", tmp_path / "report.jsonl"
    result = run("clean", b, "--against", index, "-o", out, "--report", report)
    assert result.exit_code == 0, result.output
    records = [r for r in read_jsonl(report) if r["type"] == "document"]
    assert read_jsonl(report)[0]["against"] == [str(index)]  # the run record names the indexes
    against = {r["id"]: r for r in records if "index" in r}
    assert {i: r["duplicate_of"] for i, r in against.items()} == planted  # integer ids, as indexed
    assert all(r["removed"] and r["index"] == str(index) and r["similarity"] >= 0.8 for r in against.values())
    kept = [r["id"] for r in read_jsonl(out)]
    assert not set(planted) & set(kept)
    shown = run("inspect", report).stdout
    assert f"reprint-of-5 removed: near duplicate of 5 in {index} (similarity" in shown
    # Dedup inside the new data still runs.
    inside = [r for r in records if "index" not in r]
    assert [(r["id"], r["duplicate_of"]) for r in inside] == [("new-0-again", "new-0")]
    assert len(kept) == 30
    # The banner, boilerplate in the indexed half, is boilerplate here too (one copy in this half).
    assert BANNER in next(r["text"] for r in read_jsonl(b) if r["id"] == "new-5")
    assert not any(BANNER in r["text"] for r in read_jsonl(out))
    alone = tmp_path / "alone.jsonl"
    assert run("clean", b, "-o", alone).exit_code == 0
    assert BANNER in next(r["text"] for r in read_jsonl(alone) if r["id"] == "new-5")


def test_annotate_keeps_every_row_and_names_the_indexed_id(tmp_path, halves, first_index):
    a, b, planted = halves
    index = first_index
    out = tmp_path / "annotated.jsonl"
    assert run("clean", b, "--against", index, "--annotate", "-o", out).exit_code == 0
    rows = {r["id"]: r for r in read_jsonl(out)}
    assert len(rows) == 39
    assert {i: rows[i]["dedup_duplicate_of"] for i in planted} == {i: str(k) for i, k in planted.items()}
    assert rows["new-3"]["dedup_duplicate_of"] is None


def test_several_indexes(tmp_path, halves):
    a, b, planted = halves
    records = read_jsonl(a)
    low, high = tmp_path / "low.jsonl", tmp_path / "high.jsonl"
    write_jsonl(low, records[:20])
    write_jsonl(high, records[20:])
    run("index", "build", low, "-o", tmp_path / "low.idx")
    run("index", "build", high, "-o", tmp_path / "high.idx")
    report = tmp_path / "r.jsonl"
    result = run("clean", b, "--against", tmp_path / "low.idx", "--against", tmp_path / "high.idx",
                 "-o", tmp_path / "out.jsonl", "--report", report)
    assert result.exit_code == 0, result.output
    found = {r["id"]: (r["duplicate_of"], Path(r["index"]).name) for r in read_jsonl(report) if "index" in r}
    assert found == {i: (k, "low.idx" if k < 20 else "high.idx") for i, k in planted.items()}


def test_index_is_identical_whatever_the_jobs(tmp_path, halves):
    a, _, _ = halves
    assert run("index", "build", a, "-o", tmp_path / "one.idx", "--jobs", "1").exit_code == 0
    assert run("index", "build", a, "-o", tmp_path / "two.idx", "--jobs", "2").exit_code == 0
    assert files_of(tmp_path / "one.idx") == files_of(tmp_path / "two.idx")


def test_a_conflicting_setting_is_refused_in_one_line(tmp_path, halves):
    a, b, _ = halves
    index = tmp_path / "first.idx"
    run("index", "build", a, "-o", index, "--num-perm", "64", "--threshold", "0.85")
    result = run("clean", b, "--against", index, "--num-perm", "128", "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "--num-perm 128 conflicts with --against" in result.stderr and "num_perm=64" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()
    # Settings come from the index: the same value given again is no conflict.
    assert run("clean", b, "--against", index, "--threshold", "0.85", "-o", tmp_path / "out.jsonl").exit_code == 0


def test_indexes_with_different_settings_are_refused(tmp_path, halves):
    a, b, _ = halves
    run("index", "build", a, "-o", tmp_path / "x.idx")
    run("index", "build", a, "-o", tmp_path / "y.idx", "--seed", "2")
    result = run("clean", b, "--against", tmp_path / "x.idx", "--against", tmp_path / "y.idx",
                 "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "seed" in result.stderr


@pytest.mark.parametrize("make", ["missing", "file", "directory", "bad-header", "other-version"])
def test_not_an_index_is_one_line(tmp_path, halves, make):
    _, b, _ = halves
    target = tmp_path / "thing.idx"
    if make == "file":
        target.write_text("hello\n")
    elif make == "directory":
        target.mkdir()
    elif make == "bad-header":
        target.mkdir()
        (target / "header.json").write_text("{not json")
    elif make == "other-version":
        target.mkdir()
        (target / "header.json").write_text(json.dumps({"format": "dedup-index", "format_version": 99}))
    for args in (("clean", b, "--against", target, "-o", tmp_path / "out.jsonl"), ("index", "info", target),
                 ("index", "add", target, b)):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith(f"dedup: error: {target}: ") and result.stderr.count("\n") == 1
        assert ("version 99" in result.stderr) == (make == "other-version")
    assert not (tmp_path / "out.jsonl").exists()


def test_build_refuses_an_existing_path(tmp_path, halves):
    a, _, _ = halves
    (tmp_path / "taken.idx").mkdir()
    result = run("index", "build", a, "-o", tmp_path / "taken.idx")
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert list((tmp_path / "taken.idx").iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_clean_never_modifies_the_index(tmp_path, halves, first_index):
    a, b, _ = halves
    index = first_index
    before = files_of(index)
    stamps = {p: os.stat(p).st_mtime_ns for p in index.rglob("*")}
    for extra in ((), ("--annotate",), ("--jobs", "2")):
        assert run("clean", b, "--against", index, "-o", tmp_path / "o.jsonl", "--force", *extra).exit_code == 0
    assert files_of(index) == before
    assert {p: os.stat(p).st_mtime_ns for p in index.rglob("*")} == stamps


def test_threshold_explains_bands_rows_and_misses():
    result = run("threshold", "--threshold", "0.8", "--num-perm", "128")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "threshold 0.8, 128 permutations: 18 bands of 7 rows"
    table = {line.split()[0]: float(line.split()[1]) for line in lines[2:13]}
    assert list(table) == [f"{0.5 + 0.05 * k:.2f}" for k in range(11)]
    assert table["0.80"] == 0.9855 and table["1.00"] == 1.0 and table["0.50"] < 0.2
    assert "missed with chance 0.0145" in result.stdout
    assert run("threshold", "--at", "0.7").exit_code == 2


def test_threshold_reads_a_report(tmp_path, halves, first_index):
    a, b, planted = halves
    index = first_index
    report = tmp_path / "report.jsonl"
    run("clean", b, "--against", index, "-o", tmp_path / "o.jsonl", "--report", report)
    sims = sorted(r["similarity"] for r in read_jsonl(report) if r.get("duplicate_of") is not None)
    cut = sims[len(sims) // 2]
    result = run("threshold", "--report", report, "--at", cut)
    assert result.exit_code == 0, result.output
    assert f"{len(sims)} documents removed at 0.8" in result.stdout
    assert f"at {cut}: {sum(s >= cut for s in sims)} documents removed\n" in result.stdout
    lower = run("threshold", "--report", report, "--at", "0.7").stdout  # near misses down to 0.68 counted
    assert f"at 0.7: {len(sims)} documents removed\n" in lower
    assert f"at 0.6: {len(sims)} documents removed at least" in run("threshold", "--report", report, "--at", "0.6").stdout


@settings(max_examples=40, deadline=None)
@given(st.floats(0.3, 0.95), st.sampled_from([32, 64, 128, 256]))
def test_candidate_probability_grows_with_similarity(threshold, num_perm):
    table = threshold_table(threshold, num_perm)
    values = list(table["probability"].values())
    assert values == sorted(values) and values[-1] == 1.0
    assert table["bands"] * table["rows"] <= num_perm
    assert 0 <= table["missed_above_threshold"] <= table["missed_at_threshold"] <= 0.016


def test_installed_command_subprocess(tmp_path, halves):
    a, b, planted = halves
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    index = tmp_path / "sub.idx"
    subprocess.run([sys.executable, "-m", "dedup", "index", "build", str(a), "-o", str(index)], check=True, env=env)
    out = tmp_path / "o.jsonl"
    done = subprocess.run([sys.executable, "-m", "dedup", "clean", str(b), "--against", str(index), "-o", str(out)],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert not {r["id"] for r in read_jsonl(out)} & set(planted)
    digest = hashlib.sha256(b"".join(files_of(index).values())).hexdigest()
    in_process = tmp_path / "in.idx"
    run("index", "build", a, "-o", in_process)
    assert hashlib.sha256(b"".join(files_of(in_process).values())).hexdigest() == digest


def test_library_deduplicator_against(tmp_path, halves, first_index):
    from dedup import DedupError, Deduplicator, Document

    a, b, planted = halves
    index = first_index
    docs = [Document(r["id"], r["text"]) for r in read_jsonl(b)]
    result = Deduplicator(against=[index]).run(docs)
    removed = {d.id: d for d in result.documents if d.index is not None}
    assert {i: d.duplicate_of for i, d in removed.items()} == {i: str(k) for i, k in planted.items()}
    assert all(d.text is None and d.similarity >= 0.8 and d.index == str(index) for d in removed.values())
    assert [d.duplicate_of for d in result.documents if d.id == "new-0-again"] == ["new-0"]
    with pytest.raises(DedupError, match="--num-perm 64 conflicts"):
        Deduplicator(against=[index], num_perm=64)
    with pytest.raises(DedupError, match="not a dedup index"):
        Deduplicator(against=[tmp_path / "nothing.idx"])


def test_hf_deduplicate_against(tmp_path, halves, first_index):
    datasets = pytest.importorskip("datasets")
    from dedup.hf import deduplicate

    a, b, planted = halves
    index = first_index
    rows = read_jsonl(b)
    dataset = datasets.Dataset.from_list(rows)
    out = deduplicate(dataset, against=[str(index)], id_column="id", annotate=True)
    found = {r["id"]: r["dedup_duplicate_of"] for r in out if r["dedup_duplicate_of"] is not None}
    assert found == {**{i: str(k) for i, k in planted.items()}, "new-0-again": "new-0"}
    kept = deduplicate(dataset, against=[str(index)], id_column="id")
    assert len(kept) == 30


def test_against_gives_the_same_bytes_whatever_the_jobs(tmp_path, halves, first_index):
    a, b, _ = halves
    index = first_index
    outputs = []
    for jobs in ("1", "2"):
        out, report = tmp_path / f"o{jobs}.jsonl", tmp_path / f"r{jobs}.jsonl"
        assert run("clean", b, "--against", index, "-o", out, "--report", report, "--jobs", jobs).exit_code == 0
        records = [r for r in read_jsonl(report) if r["type"] != "summary"]
        outputs.append((out.read_bytes(), records))
    assert outputs[0] == outputs[1]


def test_against_needs_corpus_mode(tmp_path, halves, first_index):
    a, _, _ = halves
    index = first_index
    text = tmp_path / "one.txt"
    text.write_text("A single story about the harbor and the ferry schedule for the winter months.\n")
    result = run("clean", text, "--against", index)
    assert result.exit_code == 2 and "--against needs corpus mode" in result.stderr
    assert result.stdout == ""


@settings(max_examples=8, deadline=None)
@given(st.lists(st.one_of(st.integers(-2**53, 2**53), st.text(min_size=1, max_size=12)), min_size=1, max_size=6,
                unique_by=str))
def test_ids_keep_their_json_type(tmp_path_factory, ids):
    from dedup.config import DedupConfig
    from dedup.engines import InProcessEngine
    from dedup.io import ReadOptions
    from dedup.saved_index import build_index

    directory = tmp_path_factory.mktemp("ids")
    rng = random.Random(len(ids))
    source = directory / "in.jsonl"
    write_jsonl(source, [{"id": ident, "text": article(rng, f"t{k}")} for k, ident in enumerate(ids)])
    build_index([str(source)], str(directory / "x.idx"), ReadOptions(id_field="id"), DedupConfig(), InProcessEngine())
    segment = open_index(str(directory / "x.idx")).segments[0]
    assert segment.ids(range(len(ids))) == dict(enumerate(ids))


def test_against_on_ray_gives_the_local_bytes(tmp_path, halves, first_index):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'dedup-text[ray]' to run")
    a, b, planted = halves
    index = first_index
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        results = []
        for engine in ("local", "ray"):
            out, report = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}-report.jsonl"
            done = run("clean", b, "--against", index, "-o", out, "--report", report, "--engine", engine,
                       "--jobs", "2")
            assert done.exit_code == 0, done.output
            results.append((out.read_bytes(), [r for r in read_jsonl(report) if r["type"] == "document"]))
    finally:
        ray.shutdown()
    assert results[0] == results[1]
    assert {r["id"] for r in results[0][1] if r.get("removed") and "index" in r} == set(planted)


@pytest.mark.parametrize("damage", ["ids.jsonl", "shingles.npy", "segment.json"])
def test_a_damaged_index_is_one_line(tmp_path, halves, damage):
    a, b, _ = halves
    index = tmp_path / "first.idx"
    run("index", "build", a, "-o", index)
    target = index / "segments" / "00000" / damage
    if damage.endswith(".npy"):
        target.write_bytes(target.read_bytes()[:200])
    else:
        target.unlink()
    for args in (("index", "info", index), ("clean", b, "--against", index, "-o", tmp_path / "o.jsonl")):
        result = run(*args)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith(f"dedup: error: {index}: segment 00000: ")


def test_threshold_at_a_lower_value_counts_the_near_misses_the_report_holds(tmp_path):
    """Pairs verified just below the run's threshold are in the summary (near_misses), so
    `dedup threshold --report --at` answers for a lower threshold without running again."""
    from pathlib import Path

    from click.testing import CliRunner

    from dedup.cli import main

    newsroom = Path(__file__).resolve().parent.parent / "corpora" / "newsroom"
    report = tmp_path / "r.jsonl"
    runner = CliRunner()
    assert runner.invoke(main, ["clean", str(newsroom), "-o", str(tmp_path / "out"), "--report", str(report),
                                "--threshold", "0.9"]).exit_code == 0
    summary = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()][-1]
    assert summary["near_misses"] == [{"id": "001-budget.txt", "other": "002-budget-reprint.txt",
                                       "similarity": 0.8235}]
    at = runner.invoke(main, ["threshold", "--report", str(report), "--at", "0.8"])
    assert at.exit_code == 0 and "at 0.8: 1 documents removed" in at.stdout and "at least" not in at.stdout
    low = runner.invoke(main, ["threshold", "--report", str(report), "--at", "0.5"])
    assert "at least" in low.stdout
