"""Corpus mode: every input format, both modes (remove / annotate), determinism across --jobs,
the library Deduplicator and the datasets integration."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import BANNER, FOOTER, TOPICS, article, invoke, make_corpus, read_jsonl, write_jsonl, write_shards
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup


def test_jsonl_removes_reprints_and_boilerplate(tmp_path):
    records = make_corpus()
    source = tmp_path / "in.jsonl"
    write_jsonl(source, records)
    out, report = tmp_path / "out.jsonl", tmp_path / "report.jsonl"
    result = invoke("clean", source, "-o", out, "--report", report, "--id-field", "id", "--jobs", "1", "-v")
    assert result.exit_code == 0, result.output
    kept = read_jsonl(out)
    assert {r["id"] for r in kept} == {r["id"] for r in records if "reprint" not in r["id"]}
    assert all(r["source"] == "wire" for r in kept)  # other fields pass through
    assert not any(BANNER in r["text"] or FOOTER in r["text"] for r in kept)
    originals = {r["id"]: r["text"] for r in records}
    for record in kept:  # no other sentence was removed
        expected = originals[record["id"]].replace("\n\n" + BANNER, "").replace("\n\n" + FOOTER, "")
        assert record["text"] == expected
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    documents = [r for r in lines if r["type"] == "document"]
    assert sorted(d["id"] for d in documents) == sorted(r["id"] for r in records if "reprint" in r["id"])
    assert all(d["duplicate_of"] == d["id"].replace("-reprint", "") for d in documents)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["boilerplate_units"] >= 2
    assert lines[0]["type"] == "run" and lines[0]["lsh"]["bands"] * lines[0]["lsh"]["rows"] <= 128


@pytest.mark.parametrize("mode", ["keep_first", "flag"])
def test_boilerplate_kept_or_flagged_still_finds_reprints(tmp_path, mode):
    # corpora/newsroom: the budget story and its reprint differ in their boilerplate. The first copy
    # of each unit stays (keep_first), or every copy stays, flagged (flag); the reprint is found
    # all the same, on the text without boilerplate, and a second run changes nothing.
    newsroom = Path(__file__).resolve().parent.parent / "corpora" / "newsroom"
    out, report = tmp_path / "out", tmp_path / "report.jsonl"
    result = invoke("clean", newsroom, "-o", out, "--report", report, "--boilerplate", mode, "--jobs", "1")
    assert result.exit_code == 0, result.output
    removed = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()
               if '"duplicate_of"' in line]
    assert [(r["id"], r["duplicate_of"]) for r in removed] == [("002-budget-reprint.txt", "001-budget.txt")]
    newsletter = "Sign up for our morning newsletter"
    holding = sorted(p.name for p in out.iterdir() if newsletter in p.read_text(encoding="utf-8"))
    written = sorted(p.name for p in newsroom.iterdir() if newsletter in p.read_text(encoding="utf-8")
                     and p.name != "002-budget-reprint.txt")
    assert holding == (written[:1] if mode == "keep_first" else written) and len(written) > 1
    again = tmp_path / "again"
    assert invoke("clean", out, "-o", again, "--boilerplate", mode, "--jobs", "1").exit_code == 0
    assert {p.name: p.read_bytes() for p in again.iterdir()} == {p.name: p.read_bytes() for p in out.iterdir()}


def test_same_bytes_whatever_jobs(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, make_corpus() * 1)
    outputs = []
    for jobs in (1, 2):
        out, report = tmp_path / f"out{jobs}.jsonl", tmp_path / f"report{jobs}.jsonl"
        assert invoke("clean", source, "-o", out, "--report", report, "--jobs", jobs).exit_code == 0
        lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
        for timing in ("seconds", "mb_per_s", "jobs"):
            lines[-1].pop(timing)
        outputs.append((out.read_bytes(), lines))
    assert outputs[0] == outputs[1]


def test_annotate_keeps_every_row(tmp_path):
    records = make_corpus()
    source = tmp_path / "in.jsonl.gz"
    write_jsonl(source, records, gzip.open)
    out = tmp_path / "out.jsonl.gz"
    assert invoke("clean", source, "-o", out, "--annotate", "--id-field", "id").exit_code == 0
    rows = read_jsonl(out, gzip.open)
    assert len(rows) == len(records)
    reprint = next(r for r in rows if r["id"] == "doc-0-reprint")
    assert reprint["dedup_duplicate_of"] == "doc-0" and reprint["dedup_similarity"] >= 0.8
    assert next(r for r in rows if r["id"] == "doc-1")["dedup_cluster"] is None


def test_zstd_and_parquet(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    records = make_corpus()
    source = tmp_path / "in.jsonl.zst"
    with open(source, "wb") as raw, zstandard.ZstdCompressor().stream_writer(raw) as stream:
        stream.write("".join(json.dumps(r) + "\n" for r in records).encode())
    out = tmp_path / "out.jsonl.zst"
    assert invoke("clean", source, "-o", out).exit_code == 0
    with open(out, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream:
        zst_rows = [json.loads(x) for x in stream.read().decode().splitlines()]
    table = pa.Table.from_pylist(records)
    pq.write_table(table, tmp_path / "in.parquet")
    assert invoke("clean", tmp_path / "in.parquet", "-o", tmp_path / "out.parquet").exit_code == 0
    parquet_rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["text"] for r in parquet_rows] == [r["text"] for r in zst_rows]
    assert pq.read_table(tmp_path / "out.parquet").schema.names == ["id", "text", "source"]
    assert invoke("clean", tmp_path / "in.parquet", "-o", tmp_path / "ann.parquet", "--annotate").exit_code == 0
    annotated = pq.read_table(tmp_path / "ann.parquet")
    assert annotated.num_rows == len(records) and "dedup_duplicate_of" in annotated.schema.names


def test_directory_mirrors_tree(tmp_path):
    root = tmp_path / "crawl"
    (root / "sub").mkdir(parents=True)
    for i, record in enumerate(make_corpus()):
        (root / ("sub" if i % 2 else "") / f"{record['id']}.txt").write_text(record["text"], encoding="utf-8")
    (root / "image.bin").write_bytes(b"\x00\x01\x02binary")
    out = tmp_path / "clean"
    result = invoke("clean", root, "-o", f"{out}/", "--exclude", "*.md")
    assert result.exit_code == 0, result.output
    assert "image.bin: a binary file" in result.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    names = [name.rsplit("/", 1)[-1] for name in written]
    for i in (0, 4, 8):  # exactly one of each original/reprint pair survives (first in path order)
        assert (f"doc-{i}.txt" in names) != (f"doc-{i}-reprint.txt" in names)
    assert len(names) == len(TOPICS)
    assert any(name.startswith("sub/") for name in written)


def test_dump_with_separator_and_lines(tmp_path):
    records = make_corpus()
    dump = tmp_path / "dump.txt"
    dump.write_text("\n=====\n".join(r["text"] for r in records), encoding="utf-8")
    out = tmp_path / "clean.txt"
    assert invoke("clean", dump, "--doc-separator", r"^={3,}$", "-o", out).exit_code == 0
    parts = out.read_text(encoding="utf-8").split("=====")
    assert len(parts) == len([r for r in records if "reprint" not in r["id"]])
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(r["text"].replace("\n\n", " ") for r in records) + "\n", encoding="utf-8")
    out_lines = tmp_path / "lines.out.txt"
    assert invoke("clean", lines, "--lines", "-o", out_lines).exit_code == 0
    assert len(out_lines.read_text(encoding="utf-8").splitlines()) == len(parts)


def test_deduplicator_matches_cli(tmp_path):
    records = make_corpus()
    source = tmp_path / "in.jsonl"
    write_jsonl(source, records)
    out = tmp_path / "out.jsonl"
    assert invoke("clean", source, "-o", out, "--id-field", "id", "--jobs", "1").exit_code == 0
    result = dedup.Deduplicator().run([dedup.Document(r["id"], r["text"]) for r in records])
    assert [d.text for d in result.kept] == [r["text"] for r in read_jsonl(out)]
    streamed = list(dedup.Deduplicator().stream([dedup.Document(r["id"], r["text"]) for r in records]))
    assert [d.id for d in streamed if d.text is not None] == [d.id for d in result.kept]


BUDGET = [
    "The city council approved a $48 million budget on Tuesday after a three-hour debate that ran past midnight.",
    "The plan raises spending on road repairs by 12 percent and adds six new police officers to the downtown patrol.",
    "Council member Janet Burke, who voted against the plan, said higher parking fees would hurt small businesses.",
    "Mayor Luis Ortega defended the plan, saying the city had delayed repairs for far too long to wait another year.",
    "The budget takes effect on July 1 and will be reviewed in the autumn when new revenue figures are available.",
    "Residents who spoke at the meeting were divided, some praising the road work and others objecting to the fees.",
    "The council also voted to extend library hours on weekends, a measure that passed without debate late at night.",
    "Officials said the new officers would be hired by September and sent to the neighborhoods with the most calls.",
]


def test_stream_removes_only_what_run_removes():
    # A copy with a paragraph the kept story lacks stays in both (containment below 95%); an
    # edited copy and an exact one go in both, as duplicates of the first.
    story = "\n\n".join(BUDGET)
    added = story + "\n\nIn a separate vote, the council approved a new contract for the city's sanitation workers."
    edited = story.replace("six new police", "six police")
    documents = [dedup.Document(str(k), text) for k, text in enumerate([story, added, edited, story])]
    rng = random.Random(7)
    documents += [dedup.Document(f"other-{topic}", article(rng, topic)) for topic in TOPICS[3:6]]
    ran = [(d.id, d.duplicate_of) for d in dedup.Deduplicator().run(documents).documents]
    streamed = [(d.id, d.duplicate_of) for d in dedup.Deduplicator().stream(documents)]
    assert streamed == ran
    assert ran[:4] == [("0", None), ("1", None), ("2", "0"), ("3", "0")]


def test_keep_first_keeps_the_first_copy_of_the_documents_kept(tmp_path):
    # The first document holding the banner is a reprint removed as a copy of the story, which
    # lacks it: the banner's first copy is then the next document holding it, not none.
    banner = "Sign up for our daily newsletter to get the top stories delivered to your inbox every morning."
    story = "\n\n".join(BUDGET)
    rng = random.Random(3)
    texts = [("1-story", story), ("2-reprint", banner + "\n\n" + story.replace("six new police", "six police"))]
    texts += [(f"{k}-other", banner + "\n\n" + article(rng, topic)) for k, topic in zip((3, 4, 5), TOPICS[3:6])]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(source, [{"id": i, "text": t} for i, t in texts])
    result = invoke("clean", source, "-o", out, "--id-field", "id", "--jobs", "1", "--boilerplate", "keep_first")
    assert result.exit_code == 0, result.output
    kept = read_jsonl(out)
    assert [r["id"] for r in kept] == ["1-story", "3-other", "4-other", "5-other"]
    assert [r["id"] for r in kept if banner in r["text"]] == ["3-other"]


def test_documents_of_boilerplate_only_are_not_copies_of_each_other(tmp_path):
    # c, d, e and f hold only boilerplate, each other units: with it removed they have no words
    # to compare (a line break is left), so none is a copy of another, and B, F and G (in 5 of 6
    # documents each) go.
    B = "Sign up for our daily newsletter to get the top stories delivered to your inbox every morning."
    F = "Copyright 2025 Westhaven Gazette Media Group. All rights reserved. This material may not be republished."
    G = "Follow us on social media for breaking news updates and live coverage from our reporters."
    texts = {"a": [BUDGET[0], B, F, G], "b": [BUDGET[1], B, F, G], "c": [B, F], "d": [G, B], "e": [F, G],
             "f": [B, G, F]}
    source, out, report = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "report.json"
    write_jsonl(source, [{"id": i, "text": "\n\n".join(parts) + "\n"} for i, parts in texts.items()])
    result = invoke("clean", source, "-o", out, "--id-field", "id", "--jobs", "1", "--report", report)
    assert result.exit_code == 0, result.output
    assert {r["id"]: r["text"] for r in read_jsonl(out)} == {
        "a": BUDGET[0] + "\n", "b": BUDGET[1] + "\n", "c": "\n", "d": "\n", "e": "\n", "f": "\n"}
    assert not [d for d in json.loads(report.read_text(encoding="utf-8"))["documents"] if d.get("duplicate_of")]


def test_order_does_not_change_clusters():
    records = make_corpus()
    forward = dedup.Deduplicator().run([dedup.Document(r["id"], r["text"]) for r in records])
    backward = dedup.Deduplicator().run([dedup.Document(r["id"], r["text"]) for r in reversed(records)])

    def pairs(result):
        return {frozenset((d.id, d.duplicate_of)) for d in result.documents if d.duplicate_of}

    assert pairs(forward) == pairs(backward)


def test_datasets_integration():
    datasets = pytest.importorskip("datasets")
    from dedup.hf import clean_batch, deduplicate

    records = make_corpus()
    dataset = datasets.Dataset.from_list(records)
    cleaned = deduplicate(dataset, text_column="text")
    expected = dedup.Deduplicator().run([dedup.Document(r["id"], r["text"]) for r in records])
    assert cleaned["text"] == [d.text for d in expected.kept]
    annotated = deduplicate(dataset, annotate=True, id_column="id")
    assert len(annotated) == len(records) and annotated.column_names[:3] == ["id", "text", "source"]
    # As dedup clean --annotate writes them: the kept copy's id, null where nothing applies.
    assert annotated["dedup_duplicate_of"] == [d.duplicate_of for d in expected.documents]
    assert annotated["dedup_cluster"] == [d.cluster for d in expected.documents]
    mapped = datasets.Dataset.from_dict({"text": ["It rained.The roads flooded."]}).map(clean_batch, batched=True)
    assert mapped["text"] == ["It rained. The roads flooded."]


def test_unchanged_records_keep_their_bytes(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = ['{"text": "Caf\\u00e9 opens on Monday.",   "n": 1.50}',
             '{"n": 2, "text": "It rained.The roads flooded."}']
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert invoke("clean", source, "-o", out).exit_code == 0
    written = out.read_text(encoding="utf-8").splitlines()
    assert written[0] == lines[0]  # untouched record: the same bytes, escapes and spacing kept
    assert json.loads(written[1]) == {"n": 2, "text": "It rained. The roads flooded."}


def test_memory_budget_gives_the_same_result(tmp_path):
    """Under a --memory budget too small for the signatures they stay on disk and the buckets are
    resolved out of core: the same output and the same decisions."""
    source = tmp_path / "in.jsonl"
    write_jsonl(source, make_corpus() * 3)  # exact copies too
    outputs = {}
    for name, extra in (("free", ()), ("budget", ("--memory", "1K"))):
        out, report = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.json"
        assert invoke("clean", source, "-o", out, "--report", report, *extra).exit_code == 0
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
        outputs[name] = out.read_bytes(), {k: summary[k] for k in ("duplicate_documents", "clusters", "changes")}
    assert outputs["budget"] == outputs["free"]
    assert outputs["free"][1]["duplicate_documents"] >= 2 * len(make_corpus())


def test_signatures_over_budget_stay_on_disk(tmp_path):
    """Fingerprints.collect keeps signatures past half the budget in a file, read back exactly."""
    from dedup.corpus import Fingerprints, SignatureFile

    rng = np.random.default_rng(3)
    sigs = rng.integers(0, 2**32, size=(50, 16), dtype=np.uint32)

    def parts():
        for k in range(0, 50, 7):
            n = len(sigs[k : k + 7])
            yield Fingerprints(sigs[k : k + 7], np.zeros(n, np.uint64), np.ones(n, np.int64),
                               np.empty(0, np.uint64), np.empty(0, np.int64))

    spilled = Fingerprints.collect(parts(), 16, memory=1_000, spill_dir=str(tmp_path))
    assert isinstance(spilled.signatures, SignatureFile)
    assert np.array_equal(spilled.signatures.take(np.arange(50)[::-1]), sigs[::-1])
    in_memory = Fingerprints.collect(parts(), 16)
    assert np.array_equal(in_memory.signatures, sigs)


def _signature_file(tmp_path, sigs, memory):
    from dedup.corpus import SignatureFile

    path = tmp_path / f"sigs-{memory}.u32"
    sigs.tofile(path)
    return SignatureFile(str(path), len(sigs), sigs.shape[1], memory)


@pytest.mark.parametrize("jobs", [1, 2])
def test_engine_candidates_equal_local_candidates(jobs):
    """The engine protocol's band-key reduce (bands computed in workers with two jobs) gives the
    pairs of one process."""
    from dedup.corpus.lsh import local_candidates
    from dedup.engines import InProcessEngine, PoolEngine

    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 3, size=(400, 16), dtype=np.uint32)
    engine = PoolEngine(jobs, min_band_docs=1) if jobs > 1 else InProcessEngine()
    try:
        got = engine.candidates(sigs, 8, 2)
    finally:
        engine.close()
    expected = local_candidates(sigs, 8, 2)
    assert len(expected) > 100 and np.array_equal(got, expected)


def _scaled(task, context):
    return [task * context["factor"], os.getpid()]


def test_pool_engine_keeps_workers_for_one_context():
    """Results come back in task order; a call with the same context reuses the workers, a new
    context starts new ones."""
    from dedup.engines import PoolEngine

    engine = PoolEngine(2)
    try:
        context = {"factor": 3}
        first = list(engine.map(_scaled, range(20), context))
        assert [value for value, _ in first] == [3 * k for k in range(20)]
        again = list(engine.map(_scaled, range(5), context))
        assert {pid for _, pid in again} <= {pid for _, pid in first}
        other = list(engine.map(_scaled, range(5), {"factor": 1}))
        assert [value for value, _ in other] == list(range(5))
        assert not {pid for _, pid in other} & {pid for _, pid in first}
    finally:
        engine.close()


def _fails_on_three(task, context):
    if task == 3:
        raise dedup.InputError(f"task {task} is bad")
    return task


def test_pool_engine_raises_a_stage_error_as_it_is():
    from dedup.engines import PoolEngine

    engine = PoolEngine(2)
    try:
        with pytest.raises(dedup.InputError, match="task 3 is bad"):
            list(engine.map(_fails_on_three, range(8), None))
    finally:
        engine.close()


def test_spilled_candidates_equal_local_candidates(tmp_path):
    from dedup.corpus.lsh import local_candidates, spilled_candidates

    rng = np.random.default_rng(2)
    sigs = rng.integers(0, 3, size=(500, 16), dtype=np.uint32)
    expected = local_candidates(sigs, 8, 2)
    for memory in (1, 4_000, 10**9):  # many radix partitions, a few, one
        assert np.array_equal(spilled_candidates(_signature_file(tmp_path, sigs, memory), 8, 2), expected)
    assert not list(tmp_path.glob("band-keys-*"))  # the partition files are removed


def test_signature_file_reads_only_named_rows(tmp_path):
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 5, size=(300, 64), dtype=np.uint32)
    rows = rng.integers(0, 300, size=500)
    for memory in (1, 5_000, 10**9):
        spilled = _signature_file(tmp_path, sigs, memory)
        assert np.array_equal(spilled.take(rows), sigs[rows])
        assert np.array_equal(np.concatenate([c for _, c in spilled.chunks(7)]), sigs)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_shards_written_by_workers_equal_one_file_written_here(tmp_path, jobs):
    """Shards to a directory are read, cleaned and written by the workers; the same records in
    one file are read and written by this process: the same kept texts, in the same order."""
    shards = write_shards(tmp_path / "in", shards=3, docs=30)
    joined = tmp_path / "all.jsonl"
    joined.write_bytes(b"".join(path.read_bytes() for path in shards))
    assert invoke("clean", *shards, "-o", f"{tmp_path / 'out'}/", "--jobs", jobs).exit_code == 0
    assert invoke("clean", joined, "-o", tmp_path / "all-out.jsonl", "--jobs", jobs).exit_code == 0
    by_shards = b"".join((tmp_path / "out" / path.name).read_bytes() for path in shards)
    assert by_shards == (tmp_path / "all-out.jsonl").read_bytes()
    assert len(read_jsonl(tmp_path / "all-out.jsonl")) < sum(len(read_jsonl(p)) for p in shards)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_large_file_read_in_byte_ranges_equals_one_reader(tmp_path, jobs):
    """A plain JSONL file of 4 MB or more is read, cleaned and written in byte ranges side by
    side; its gzip copy is read by this process alone: the same output."""
    rng = random.Random(9)
    records = []
    while sum(len(r["text"]) for r in records) < 4_300_000:
        k = len(records)
        text = article(rng, f"topic{k % 997}") + ("\n\n" + BANNER if k % 3 == 0 else "")
        records.append({"text": text})
        if k % 5 == 0:
            records.append({"text": text.replace("plan", "scheme", 1)})
    plain, packed = tmp_path / "big.jsonl", tmp_path / "big.jsonl.gz"
    write_jsonl(plain, records)
    write_jsonl(packed, records, gzip.open)
    for name, source in (("ranges", plain), ("one", packed)):
        result = invoke("clean", source, "-o", tmp_path / f"{name}.jsonl", "--mode", "documents", "--jobs", jobs)
        assert result.exit_code == 0
    written = (tmp_path / "ranges.jsonl").read_bytes()
    assert written == (tmp_path / "one.jsonl").read_bytes()
    assert 0 < written.count(b"\n") < len(records)


def test_large_component_chain_guard_reads_no_documents_pair_by_pair():
    """In a component larger than the pairwise limit, the chain guard estimates pairs it has not
    resolved instead of checking each exactly (each exact check re-reads the corpus)."""
    import numpy as np

    from dedup.config import DedupConfig
    from dedup.corpus import Fingerprints, plan_corpus
    from dedup.corpus.cluster import PAIRWISE_LIMIT

    rng = np.random.default_rng(5)
    n, num_perm = 3 * PAIRWISE_LIMIT, 128
    base = rng.integers(0, 2**32, num_perm, dtype=np.uint32)
    sigs = np.tile(base, (n, 1))
    for row in range(n):  # about 12% of positions differ from the base: estimates near 0.8
        changed = rng.random(num_perm) < 0.12
        sigs[row, changed] = rng.integers(0, 2**32, int(changed.sum()), dtype=np.uint32)
    fingerprints = Fingerprints(sigs, np.arange(n, dtype=np.uint64), np.full(n, 100, dtype=np.int64),
                                np.empty(0, np.uint64), np.empty(0, np.int64))
    calls = []

    def exact(pairs):  # some pairs fall below the threshold, so the component has several keepers
        calls.append(len(pairs))
        return np.where(pairs.sum(axis=1) % 3 == 0, 0.5, 0.85)

    plan = plan_corpus(fingerprints, DedupConfig(), exact)
    assert (plan.duplicate_of >= 0).sum() > n // 2
    assert len(calls) <= 2, calls  # the candidates in one batch, not one call per pair


@given(st.lists(st.sets(st.integers(0, 40), max_size=30), min_size=2, max_size=6))
def test_pair_jaccard_is_set_algebra(sets):
    """Exact Jaccard of document pairs (the plan's check near the threshold) equals |A∩B| / |A∪B|."""
    from dedup.corpus.passes import pair_jaccard

    shingles = {k: np.array(sorted(s), dtype=np.uint64) for k, s in enumerate(sets)}
    pairs = np.array([(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets))], dtype=np.int64)
    expected = [len(sets[i] & sets[j]) / len(sets[i] | sets[j]) if sets[i] | sets[j] else 1.0 for i, j in pairs]
    assert pair_jaccard(pairs, shingles).tolist() == expected


def test_id_tables_appended_equal_one_table():
    """Shards return their ids as tables built where they were read; appended in order they equal
    one table of all the ids (the same ids, hashes and repeats)."""
    from dedup.corpus.store import IdTable

    ids = ["a", "b", "é", "", "a", "c", "b", "日本"]
    whole = IdTable()
    whole.extend(ids)
    joined = IdTable()
    for piece in (ids[:3], [], ids[3:4], ids[4:]):
        part = IdTable()
        part.extend(piece)
        joined.append(part)
    assert [joined[k] for k in range(len(joined))] == ids
    assert joined.repeats() == whole.repeats() == {4, 6}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 5), max_size=60))
def test_stable_argsort_is_numpys_stable_argsort(values):
    """Equal values (few or many, in runs of any length, at either end) keep their order."""
    from dedup.corpus.arrays import stable_argsort

    array = np.array(values, dtype=np.uint64)
    assert stable_argsort(array).tolist() == np.argsort(array, kind="stable").tolist()
    assert stable_argsort(array.astype(np.int64)).tolist() == np.argsort(array.astype(np.int64), kind="stable").tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=80), st.booleans())
def test_unique_pairs_are_numpys_unique_rows(pairs, wide):
    """Pairs coded as one integer to sort give np.unique's rows; past 2**31 documents, np.unique itself."""
    from dedup.corpus.arrays import unique_pairs

    array = np.array(pairs, dtype=np.int64).reshape(-1, 2) + (2**31 if wide else 0)
    expected = np.unique(array, axis=0) if len(array) else np.empty((0, 2), dtype=np.int64)
    got = unique_pairs([array[: len(array) // 2], array[len(array) // 2 :]])
    assert got.dtype == np.int64 and np.array_equal(got, expected)


