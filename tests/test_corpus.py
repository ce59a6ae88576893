"""Corpus mode: every input format, both modes (remove / annotate), determinism across --jobs,
the library Deduplicator and the datasets integration."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.cli import main
from dedup.report import load_report

BANNER = "Sign up for our daily newsletter to get the latest headlines delivered to your inbox."
FOOTER = "Copyright 2025 Westhaven Daily News. All rights reserved worldwide."
TOPICS = ["council", "harbor", "school", "storm", "ferry", "library", "market", "bridge", "museum",
          "stadium", "hospital", "airport"]


def _article(rng: random.Random, topic: str) -> str:
    verbs = ["approved", "delayed", "opened", "closed", "reviewed", "expanded", "repaired", "funded"]
    people = ["officials", "residents", "engineers", "teachers", "volunteers", "inspectors"]
    sentences = []
    for k in range(8):
        sentences.append(
            f"The {topic} {rng.choice(people)} {rng.choice(verbs)} plan number {rng.randint(1, 9999)} "
            f"on {rng.choice(['Monday', 'Tuesday', 'Friday'])} after {rng.randint(2, 90)} minutes of talks "
            f"about the {rng.choice(['budget', 'schedule', 'repairs', 'permits'])} and item {k}."
        )
    return " ".join(sentences[:4]) + "\n\n" + " ".join(sentences[4:])


def make_corpus(seed: int = 5) -> list[dict[str, str]]:
    rng = random.Random(seed)
    records = []
    for i, topic in enumerate(TOPICS):
        text = _article(rng, topic)
        if i % 2 == 0:
            text += "\n\n" + BANNER
        if i % 3 == 0:
            text += "\n\n" + FOOTER
        records.append({"id": f"doc-{i}", "text": text, "source": "wire"})
        if i % 4 == 0:  # a reprint with a one-word edit
            words = text.split(" ")
            words[3] = "Westhaven"
            records.append({"id": f"doc-{i}-reprint", "text": " ".join(words), "source": "reprint"})
    return records


def invoke(*args):
    # These corpora repeat ids across copies: file:line ids unless a test names the id field.
    ids = () if "--id-field" in args else ("--id-field", "")
    return CliRunner().invoke(main, [str(a) for a in (*args, *ids)], catch_exceptions=False)


def write_jsonl(path: Path, records, opener=open):
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def read_jsonl(path: Path, opener=open):
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


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
    assert "skipped binary file" in result.stderr
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
    annotated = deduplicate(dataset, annotate=True)
    assert len(annotated) == len(records) and "dedup_duplicate_of" in annotated.column_names
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


def test_memory_budget_keeps_signatures_on_disk_with_the_same_result(tmp_path, monkeypatch):
    import tempfile

    import dedup.corpus

    records = make_corpus()
    rng = random.Random(11)
    for k in range(60):  # more documents and reprints, so the budget makes many chunks and partitions
        text = _article(rng, TOPICS[k % len(TOPICS)])
        records.append({"id": f"extra-{k}", "text": text, "source": "wire"})
        if k % 3 == 0:
            words = text.split(" ")
            words[5] = "reportedly"
            records.append({"id": f"extra-{k}-reprint", "text": " ".join(words), "source": "reprint"})
    source = tmp_path / "in.jsonl"
    write_jsonl(source, records)
    plain, budget = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    reports = tmp_path / "a.report.jsonl", tmp_path / "b.report.jsonl"
    assert invoke("clean", source, "-o", plain, "--report", reports[0], "--jobs", "1").exit_code == 0
    seen = []
    spilled = dedup.corpus.spilled_candidates

    def spy(sigs, bands, rows):
        seen.append(sigs)
        pairs = spilled(sigs, bands, rows)
        left = [p.name for p in Path(sigs.path).parent.iterdir() if p.name.startswith("band-keys-")]
        assert len(pairs) and left == []  # the band-key files are gone
        return pairs

    monkeypatch.setattr(dedup.corpus, "spilled_candidates", spy)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for memory in ("1K", "64K"):  # one row per chunk; several rows per chunk
        assert invoke("clean", source, "-o", budget, "--report", reports[1], "--jobs", "1", "--memory", memory,
                      "--force").exit_code == 0
        assert budget.read_bytes() == plain.read_bytes()
        summaries = [json.loads(r.read_text(encoding="utf-8").splitlines()[-1]) for r in reports]
        assert summaries[0]["duplicate_documents"] == summaries[1]["duplicate_documents"] > 5
        assert list(scratch.iterdir()) == []  # the spill directory is gone
    assert [type(s).__name__ for s in seen] == ["SignatureFile", "SignatureFile"]
    assert invoke("clean", source, "-o", tmp_path / "c.jsonl", "--memory", "lots").exit_code == 2


def _signature_file(tmp_path, sigs, memory):
    from dedup.corpus import SignatureFile

    path = tmp_path / "signatures.u32"
    sigs.tofile(path)
    return SignatureFile(str(path), len(sigs), sigs.shape[1], memory)


def test_workers_candidates_equal_local_candidates(monkeypatch):
    """With 2 workers each computes the star edges of some bands: the same pairs, in the same order."""
    import dedup.corpus
    import dedup.run
    from dedup.config import DedupConfig
    from dedup.corpus import local_candidates
    from dedup.run import CorpusEngine

    rng = np.random.default_rng(5)
    sigs = rng.integers(0, 3, size=(500, 32), dtype=np.uint32)
    sigs[rng.integers(0, 500, 80)] = sigs[rng.integers(0, 500, 80)]
    expected = local_candidates(sigs, 16, 2)
    monkeypatch.setattr(dedup.run, "_SHARED_BANDS_MIN", 1)
    monkeypatch.setattr(dedup.corpus, "local_candidates", None)  # the workers' path, not this one
    got = CorpusEngine(DedupConfig(), 2).candidates(sigs, 16, 2)
    assert len(expected) > 500 and got.dtype == expected.dtype and np.array_equal(got, expected)


def test_signature_rows_compact_into_document_order():
    """Signatures written at row = line - 1, with holes where lines held no document, compact in
    place into document order; rows out of order are refused."""
    from dedup.corpus import SignatureRows

    rng = np.random.default_rng(2)
    sigs = rng.integers(0, 1 << 32, size=(70_000, 4), dtype=np.uint32)
    rows = np.sort(rng.choice(80_000, size=len(sigs), replace=False))  # holes; two chunks to move
    table = SignatureRows(80_000, 4)
    for part in np.array_split(np.arange(len(sigs)), 7):
        table.put(rows[part], sigs[part])
    table.put(np.arange(3), sigs[:3])  # contiguous rows take a slice (rows 0-2 are holes or docs)
    sigs[rows < 3] = sigs[:3][rows[rows < 3]]
    got = table.compact(rows)
    assert table.holds(got) and not table.holds(sigs) and np.array_equal(got, sigs)
    full = SignatureRows(5, 4)
    full.put(np.arange(5), sigs[:5])
    assert np.array_equal(full.compact(np.arange(5)), sigs[:5])  # every line a document: as is
    with pytest.raises(ValueError):
        SignatureRows(10, 4).compact(np.array([0, 5, 3]))


def test_kept_workers_compute_bands_of_shared_rows(monkeypatch):
    """When the signatures are in the kept workers' shared table (filled by a forked worker),
    those workers compute the bands: no new pool, the same pairs as in one process."""
    import dedup.corpus
    import dedup.run
    from dedup.config import DedupConfig
    from dedup.corpus import SignatureRows, local_candidates
    from dedup.run import CorpusEngine

    rng = np.random.default_rng(7)
    sigs = rng.integers(0, 3, size=(400, 32), dtype=np.uint32)
    sigs[rng.integers(0, 400, 60)] = sigs[rng.integers(0, 400, 60)]
    expected = local_candidates(sigs, 16, 2)
    rows = np.arange(0, 800, 2)
    table = SignatureRows(800, 32)
    engine = CorpusEngine(DedupConfig(), 2)
    monkeypatch.setattr(dedup.run, "_SHARED_BANDS_MIN", 1)
    monkeypatch.setattr(dedup.corpus, "local_candidates", None)
    with engine.workers(None, table):
        list(engine.map_sources(_put_rows, [(rows[:150], sigs[:150]), (rows[150:], sigs[150:])]))
        shared = table.compact(rows)
        assert np.array_equal(shared, sigs)  # the workers' writes are seen here
        monkeypatch.setattr(CorpusEngine, "_mapper", None)  # no new pool
        got = engine.candidates(shared, 16, 2)
    assert len(expected) > 300 and np.array_equal(got, expected)


def _refused(self, lines, num_perm):
    raise OSError(12, "Cannot allocate memory")


def _put_rows(item):
    """In a worker: write signatures into the pool's shared table."""
    rows, sigs = item
    dedup.run._WORKER["shared"].put(rows, sigs)


def test_spilled_candidates_equal_local_candidates(tmp_path, monkeypatch):
    import numpy as np

    import dedup.corpus
    from dedup.corpus import local_candidates, spilled_candidates

    rng = np.random.default_rng(3)
    sigs = rng.integers(0, 3, size=(700, 32), dtype=np.uint32)  # few values: many shared buckets
    sigs[rng.integers(0, 700, 100)] = sigs[rng.integers(0, 700, 100)]  # and exact copies
    expected = local_candidates(sigs, 16, 2)
    assert len(expected) > 1000
    shards = []
    reduce = dedup.corpus.band_shard_pairs

    def spy(keys, docs):
        shards.append(len(docs))
        return reduce(keys, docs)

    monkeypatch.setattr(dedup.corpus, "band_shard_pairs", spy)
    for memory in (1, 2_000, 20_000, 10**9):
        shards.clear()
        spilled = _signature_file(tmp_path, sigs, memory)
        got = spilled_candidates(spilled, 16, 2)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), memory
        assert sum(shards) == 16 * len(sigs)  # every (band, document) record resolved once
        if memory <= 2_000:
            assert len(shards) > 16 * 8 and spilled.chunk_rows(8) < 10  # many partitions and chunks
        assert [p.name for p in tmp_path.iterdir()] == ["signatures.u32"]


def test_spilled_files_are_removed_on_errors(tmp_path, monkeypatch):
    import numpy as np

    import dedup.corpus

    def fail(keys, docs):
        raise RuntimeError("reduce failed")

    monkeypatch.setattr(dedup.corpus, "band_shard_pairs", fail)
    sigs = np.random.default_rng(0).integers(0, 3, size=(50, 32), dtype=np.uint32)
    with pytest.raises(RuntimeError):
        dedup.corpus.spilled_candidates(_signature_file(tmp_path, sigs, 1_000), 16, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["signatures.u32"]

def test_pass_two_reuses_pass_one_segments_with_the_same_result(tmp_path, monkeypatch):
    """Pass 1 keeps each unchanged document's segmentation for pass 2; what pass 2 then writes
    equals segmenting again, and the packed form round-trips."""
    from dedup import run as run_module
    from dedup.config import DedupConfig
    from dedup.pipeline import pack_segments, prepare, unpack_segments

    config = DedupConfig()
    texts = [r["text"] for r in make_corpus()] + ["Glued.Sentence here and more words follow.", ""]
    prepared = [prepare(text, config) for text in texts]
    segments = [None if p.edits else (len(p.source), p.paragraphs) for p in prepared]
    assert unpack_segments(pack_segments(segments)) == segments
    assert any(s is None for s in segments) and any(s is not None for s in segments)

    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": str(i), "text": t} for i, t in enumerate(texts)])
    read_back = []
    import dedup.pipeline as pipeline  # the worker imports unpack_segments from here when it runs

    real = pipeline.unpack_segments
    monkeypatch.setattr(pipeline, "unpack_segments", lambda packed: read_back.append(1) or real(packed))
    out_reused = tmp_path / "reused.jsonl"
    assert invoke("clean", source, "-o", out_reused, "--jobs", 1).exit_code == 0
    assert read_back, "pass 2 did not read pass 1's segments"
    monkeypatch.setattr(run_module, "_segments_path", lambda number: None)
    out_fresh = tmp_path / "fresh.jsonl"
    assert invoke("clean", source, "-o", out_fresh, "--jobs", 1).exit_code == 0
    assert out_reused.read_bytes() == out_fresh.read_bytes()


@pytest.mark.parametrize("jobs", [1, 2])
def test_shards_read_and_written_by_workers_match_the_batch_path(tmp_path, monkeypatch, jobs):
    """With several record shards and an output directory, each worker reads, cleans and writes
    whole shards; the bytes and the report equal those of the batch path (parent reads)."""
    from dedup.run import CorpusEngine

    records = make_corpus() + make_corpus(seed=9)
    source = tmp_path / "in"
    source.mkdir()
    for shard in range(3):
        write_jsonl(source / f"part-{shard}.jsonl", records[shard::3])
    runs = {}
    for path in ("shards", "batches"):
        if path == "batches":
            monkeypatch.delattr(CorpusEngine, "map_sources")
        out, report = tmp_path / path, tmp_path / f"{path}.jsonl"
        assert invoke("clean", source, "-o", out, "--report", report, "--jobs", jobs).exit_code == 0
        lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
        for timing in ("seconds", "mb_per_s", "jobs"):
            lines[-1].pop(timing)
        runs[path] = ({p.name: p.read_bytes() for p in sorted(out.iterdir())}, lines)
    assert len(runs["shards"][0]) == 3
    assert runs["shards"] == runs["batches"]
    assert runs["shards"][1][-1]["duplicate_documents"] > 0


def test_signature_file_reads_only_named_rows_with_the_same_estimates(tmp_path):
    import numpy as np

    from dedup.corpus import _estimates

    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 5, size=(300, 64), dtype=np.uint32)
    pairs = np.sort(rng.integers(0, 300, size=(500, 2)), axis=1)
    for memory in (1, 5_000, 10**9):
        spilled = _signature_file(tmp_path, sigs, memory)
        assert np.array_equal(spilled.take(pairs[:, 1]), sigs[pairs[:, 1]])
        assert np.array_equal(_estimates(spilled, pairs), _estimates(sigs, pairs))
        assert np.array_equal(np.concatenate([c for _, c in spilled.chunks(7)]), sigs)


def test_roots_and_components_match_union_find():
    import numpy as np

    from dedup.corpus import _component_table, _find, _roots

    rng = np.random.default_rng(7)
    n = 2_000
    parent = np.arange(n, dtype=np.int64)
    for i, j in rng.integers(0, n, size=(1_200, 2)).tolist():
        ri, rj = _find(parent, i), _find(parent, j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = _roots(parent)
    assert roots.tolist() == [_find(parent.copy(), i) for i in range(n)]
    members, bounds = _component_table(roots)
    expected = {}
    for i, root in enumerate(roots.tolist()):
        expected.setdefault(root, []).append(i)
    groups = [members[a:b].tolist() for a, b in zip(bounds[:-1], bounds[1:])]
    assert groups == [m for _, m in sorted(expected.items()) if len(m) > 1]
    members, bounds = _component_table(np.arange(5))  # singletons only: no component
    assert len(members) == 0 and bounds.tolist() == [0]


def _assign_one_by_one(roots, measure, fingerprints, config, plan):
    """Every component decided in turn by the one-component loop, clusters numbered as they come:
    how dedup decided them before components of two were decided together."""
    from dedup.corpus import _component_keepers, _component_table

    clusters = 0
    members, bounds = _component_table(roots)
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        for group in _component_keepers(members[start:end], measure, fingerprints, config, plan):
            plan.cluster[group] = clusters
            clusters += 1
    return clusters


@pytest.mark.parametrize("keep", ["first", "longest", "none"])
def test_components_of_two_decided_together_as_one_by_one(keep):
    """Components of two (most of a corpus's) are decided in numpy, the rest one by one: the same
    keepers, duplicates, similarities and cluster numbers as deciding every component in turn,
    with pairs resolved exactly, estimated, unresolved, below the threshold, and remembered one
    at a time; components of every size up to past the pairwise limit; ties in length."""
    import copy

    from dedup.config import DedupConfig
    from dedup.corpus import DocumentPlan, Fingerprints, _assign, _find, _roots, _Similarity

    rng = np.random.default_rng(11)
    n, num_perm = 4_000, 64
    parent = np.arange(n, dtype=np.int64)
    joined = []
    for size in [2] * 600 + [3] * 60 + [5] * 20 + [70, 90]:  # disjoint components
        free = np.flatnonzero(parent == np.arange(n))
        picked = np.sort(rng.choice(free[free > 0], size=size, replace=False))
        for a, b in zip(picked[:-1].tolist(), picked[1:].tolist()):
            joined.append((a, b))
            parent[_find(parent, b)] = _find(parent, a)
    roots = _roots(parent)
    base = rng.integers(0, 2**32, num_perm, dtype=np.uint32)
    sigs = rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint32)
    sigs = np.where(rng.random((n, num_perm)) < 0.89, base, sigs)  # estimates around 0.8
    lengths = rng.integers(1, 4, n).astype(np.int64) * 100  # many ties
    fingerprints = Fingerprints(sigs, np.arange(n, dtype=np.uint64), lengths, np.empty(0, np.uint64),
                                np.empty(0, np.int64))

    def exact(pairs):
        return np.where(pairs.sum(axis=1) % 4 == 0, 0.6, 0.8 + (pairs[:, 0] % 7) / 100)

    config = DedupConfig().replace(keep=keep)
    measure = _Similarity(fingerprints, 0.8, exact)
    pairs = np.array(joined, dtype=np.int64)
    measure.resolve(pairs[rng.random(len(pairs)) < 0.9])  # some pairs of two left unresolved
    for i, j in pairs[:5].tolist():
        measure.get(j, i)  # remembered one at a time
    plans = []
    for assign in (_assign, _assign_one_by_one):
        plan = DocumentPlan(np.full(n, -1, np.int64), np.zeros(n), np.full(n, -1, np.int64))
        clusters = assign(roots, copy.deepcopy(measure), fingerprints, config, plan)
        plans.append((clusters, plan.duplicate_of.tolist(), plan.similarity.tolist(), plan.cluster.tolist()))
    assert plans[0] == plans[1]
    assert plans[0][0] > 400  # (a quarter of the exact checks fall below the threshold)


def test_large_component_chain_guard_reads_no_documents_pair_by_pair():
    """In a component larger than the pairwise limit, the chain guard estimates pairs it has not
    resolved instead of checking each exactly (each exact check re-reads the corpus)."""
    import numpy as np

    from dedup.config import DedupConfig
    from dedup.corpus import _PAIRWISE_LIMIT, Fingerprints, plan_corpus

    rng = np.random.default_rng(5)
    n, num_perm = 3 * _PAIRWISE_LIMIT, 128
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


@pytest.mark.parametrize("output_name", ["out.jsonl", "out.jsonl.gz"])
def test_one_large_file_read_in_byte_ranges_matches_one_reader(tmp_path, monkeypatch, output_name):
    """With 2 workers a large plain JSONL file is read, cleaned and written in byte ranges by the
    workers and joined: the same bytes, report, skipped lines and line numbers as one reader."""
    import dedup.run

    records = make_corpus() + make_corpus(seed=9) + make_corpus(seed=5)
    lines = [json.dumps(r) for r in records]
    lines.insert(7, "{not json")
    lines.insert(15, "   ")
    lines.insert(22, json.dumps({"text": records[0]["text"]}))  # no id: named by its line; a duplicate
    source = tmp_path / "big.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    used = []
    real = dedup.run.split_ranges

    def spy(*args):
        ranges = real(*args)
        used.append(len(ranges))
        return ranges

    monkeypatch.setattr(dedup.run, "split_ranges", spy)
    monkeypatch.setattr(dedup.run, "_RANGE_BYTES", 2_000)
    tables, made = [], dedup.run._signature_rows

    def table_spy(*args):
        table = made(*args)
        tables.append(type(table).__name__)
        return table

    monkeypatch.setattr(dedup.run, "_signature_rows", table_spy)
    runs = {}
    for jobs in ("one reader", 1, 2):  # the parent reads it whole; byte ranges with 1 and 2 workers
        monkeypatch.setattr(dedup.run, "_RANGE_MIN_BYTES", 1 << 40 if jobs == "one reader" else 1)
        out, report = tmp_path / f"{jobs}-{output_name}", tmp_path / f"{jobs}-report.jsonl"
        result = invoke("clean", source, "-o", out, "--report", report, "--jobs", 1 if jobs == "one reader" else jobs,
                        "--on-error", "skip")
        assert result.exit_code == 0, result.output
        data = out.read_bytes()
        if output_name.endswith(".gz"):
            data = gzip.decompress(data)
        report_lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
        for timing in ("seconds", "mb_per_s", "jobs"):
            report_lines[-1].pop(timing)
        runs[jobs] = (data, report_lines)
    assert len(used) == 2 and min(used) > 4  # the runs with ranges read many
    assert tables == ["SignatureRows", "SignatureRows"]  # signatures written in place by the ranges
    assert runs["one reader"] == runs[1] == runs[2]
    # A table larger than the machine can map (the kernel refuses it): collected as results arrive.
    monkeypatch.setattr(dedup.corpus.SignatureRows, "__init__", _refused)
    out = tmp_path / f"refused-{output_name}"
    result = invoke("clean", source, "-o", out, "--report", tmp_path / "refused.jsonl", "--jobs", 2,
                    "--on-error", "skip")
    assert result.exit_code == 0 and tables[-1] == "NoneType", result.output
    assert out.read_bytes() == (tmp_path / f"2-{output_name}").read_bytes()
    summary = runs[1][1][-1]
    assert summary["duplicate_documents"] > 0 and summary["skipped_records"][0]["line"] == 8
    assert any(r.get("id") == "big.jsonl:23" for r in runs[1][1] if r["type"] == "document")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sets(st.integers(0, 40), max_size=30), min_size=2, max_size=6))
def test_pair_jaccard_is_set_algebra(sets):
    """Exact Jaccard of document pairs (the plan's check near the threshold) equals |A∩B| / |A∪B|."""
    from dedup.corpus import pair_jaccard

    shingles = {k: np.array(sorted(s), dtype=np.uint64) for k, s in enumerate(sets)}
    pairs = np.array([(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets))], dtype=np.int64)
    expected = [len(sets[i] & sets[j]) / len(sets[i] | sets[j]) if sets[i] | sets[j] else 1.0 for i, j in pairs]
    assert pair_jaccard(pairs, shingles).tolist() == expected


def test_id_tables_appended_equal_one_table():
    """Shards return their ids as tables built where they were read; appended in order they equal
    one table of all the ids (the same ids, hashes and repeats)."""
    from dedup.run import IdTable

    ids = ["a", "b", "é", "", "a", "c", "b", "日本"]
    whole = IdTable()
    whole.extend(ids)
    joined = IdTable()
    for piece in (ids[:3], [], ids[3:4], ids[4:]):
        part = IdTable()
        part.extend(piece)
        joined.append(part)
    assert [joined[k] for k in range(len(joined))] == ids
    assert joined._hashes == whole._hashes and joined._ends == whole._ends
    assert joined.repeats() == whole.repeats() == {4, 6}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 5), max_size=60))
def test_stable_argsort_is_numpys_stable_argsort(values):
    """Equal values (few or many, in runs of any length, at either end) keep their order."""
    from dedup.corpus import stable_argsort

    array = np.array(values, dtype=np.uint64)
    assert stable_argsort(array).tolist() == np.argsort(array, kind="stable").tolist()
    assert stable_argsort(array.astype(np.int64)).tolist() == np.argsort(array.astype(np.int64), kind="stable").tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=80), st.booleans())
def test_unique_pairs_are_numpys_unique_rows(pairs, wide):
    """Pairs coded as one integer to sort give np.unique's rows; past 2**31 documents, np.unique itself."""
    from dedup.corpus import unique_pairs

    array = np.array(pairs, dtype=np.int64).reshape(-1, 2) + (2**31 if wide else 0)
    expected = np.unique(array, axis=0) if len(array) else np.empty((0, 2), dtype=np.int64)
    got = unique_pairs([array[: len(array) // 2], array[len(array) // 2 :]])
    assert got.dtype == np.int64 and np.array_equal(got, expected)


@pytest.mark.parametrize("ranges", [False, True])
def test_exact_checks_read_by_offsets_equal_a_reread(tmp_path, monkeypatch, ranges):
    """The plan's exact checks seek to the records pass 1 noted (batch path, and per byte range
    with 2 workers); the output and report equal those of checks that parse the file again."""
    import dedup.corpus
    import dedup.io
    import dedup.run

    records = make_corpus() + make_corpus(seed=9)
    for k, record in enumerate(list(records[:12])):  # near copies close to the threshold
        words = record["text"].split(" ")
        for at in range(5, len(words), 9):
            words[at] = f"edit{k}"
        records.append({"id": f"near-{k}", "text": " ".join(words), "source": "wire"})
    source = tmp_path / "in.jsonl"
    write_jsonl(source, records)
    source.write_text("\n" + source.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    if ranges:
        monkeypatch.setattr(dedup.run, "_RANGE_MIN_BYTES", 1)
        monkeypatch.setattr(dedup.run, "_RANGE_BYTES", 3_000)
        monkeypatch.setattr(dedup.run, "_RANGE_TAIL_BYTES", 1_000)
    read, checked = [], []
    texts_at, pair_jaccard = dedup.io.texts_at, dedup.corpus.pair_jaccard
    monkeypatch.setattr(dedup.run, "texts_at", lambda *a: read.append(1) or texts_at(*a))
    monkeypatch.setattr(dedup.corpus, "pair_jaccard", lambda p, s: checked.append(len(p)) or pair_jaccard(p, s))
    runs = {}
    for name in ("offsets", "reread"):
        if name == "reread":
            monkeypatch.setattr(dedup.run, "seekable", lambda source: False)
        out, report = tmp_path / f"{name}.jsonl", tmp_path / f"{name}-report.jsonl"
        result = invoke("clean", source, "-o", out, "--report", report, "--jobs", 2 if ranges else 1,
                        "--on-error", "skip")
        assert result.exit_code == 0, result.output
        lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
        for timing in ("seconds", "mb_per_s", "jobs"):
            lines[-1].pop(timing)
        runs[name] = (out.read_bytes(), lines)
        if name == "offsets":
            assert checked and (read or ranges)  # exact checks ran, reading by offsets
    assert runs["offsets"] == runs["reread"]


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("last", ["kept", "removed"])
def test_ranges_written_in_place_equal_joined_parts(tmp_path, monkeypatch, jobs, last):
    """In document mode the byte ranges of a file of plain UTF-8 lines are written by the workers
    at their place in the output, found from the line lengths pass 1 noted, instead of as parts
    this process joins: the same output and report as joining the parts and as the general path
    (blank and malformed lines, a last line with no newline, kept or removed). Stdout and a
    compressed output are joined from parts as before."""
    import dedup.pipeline
    import dedup.run

    records = make_corpus() + make_corpus(seed=9)
    lines = [json.dumps(r, ensure_ascii=False).replace("Westhaven", "Wésthaven") for r in records]
    lines.insert(5, "")
    lines.insert(9, "{not json")
    lines.append(json.dumps({"id": "last", "text": records[-1]["text"] if last == "removed" else "the end."}))
    source = tmp_path / "big.jsonl"
    source.write_bytes("\n".join(lines).encode("utf-8"))  # (no newline at the end)
    monkeypatch.setattr(dedup.run, "_RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(dedup.run, "_RANGE_BYTES", 2_500)
    monkeypatch.setattr(dedup.run, "_RANGE_TAIL_BYTES", 1_000)
    placed, write_in_place, places = tmp_path / "placed", dedup.run._write_in_place, dedup.run._places

    def spy(*args):
        placed.touch()  # a file: the workers are other processes
        return write_in_place(*args)

    monkeypatch.setattr(dedup.run, "_write_in_place", spy)
    runs = {}
    for name in ("in place", "joined", "general", "stdout", "gz"):
        if name == "joined":
            monkeypatch.setattr(dedup.run, "_places", lambda *args: None)
        if name == "general":
            monkeypatch.setattr(dedup.run, "_places", places)
            monkeypatch.setattr(dedup.pipeline, "changes_nothing", lambda config, boilerplate: False)
        out = tmp_path / f"{name}.jsonl{'.gz' if name == 'gz' else ''}"
        report = tmp_path / f"{name}-report.json"
        result = invoke("clean", source, "-o", "-" if name == "stdout" else out, "--report", report, "--jobs", jobs,
                        "--mode", "documents", "--on-error", "skip")
        assert result.exit_code == 0, result.output
        summary = load_report(report.read_text(encoding="utf-8"), str(report))
        for timing in ("seconds", "mb_per_s", "jobs"):
            summary["summary"].pop(timing)
        data = result.stdout_bytes if name == "stdout" else out.read_bytes()
        runs[name] = (gzip.decompress(data) if name == "gz" else data, summary)
        assert placed.exists() == (name == "in place"), name
        placed.unlink(missing_ok=True)
    assert runs["in place"] == runs["joined"] == runs["general"] == runs["stdout"] == runs["gz"]
    output, summary = runs["in place"]
    removed = {r["id"] for r in summary["documents"] if r.get("removed")}
    assert summary["summary"]["duplicate_documents"] > 0
    assert (f"big.jsonl:{len(lines)}" in removed) == (last == "removed")
    assert output.endswith(b"\n") and (b'"id": "last"' in output) == (last == "kept")
    assert not list(tmp_path.glob(".*.part"))


def test_ranges_are_joined_where_the_system_has_no_pwritev(tmp_path, monkeypatch):
    """Without os.pwritev (Windows) a large file's ranges are joined from parts as before: the
    same output."""
    import dedup.run

    source = tmp_path / "big.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in make_corpus() + make_corpus(seed=9)), encoding="utf-8")
    monkeypatch.setattr(dedup.run, "_RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(dedup.run, "_RANGE_BYTES", 2_500)
    outputs = []
    for name in ("placed", "joined"):
        if name == "joined":
            monkeypatch.delattr(dedup.run.os, "pwritev")
            monkeypatch.setattr(dedup.run, "_write_in_place", None)  # (never called)
        out = tmp_path / f"{name}.jsonl"
        result = invoke("clean", source, "-o", out, "--jobs", 1, "--mode", "documents")
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") < len(make_corpus()) * 2


def test_a_range_placed_by_short_writes_of_few_buffers_is_whole(tmp_path, monkeypatch):
    """A worker places a range's kept lines with as many pwritev calls as it takes: each may
    write part of a line (a short write) and take few buffers; the lines land whole, at the
    range's offset, after what is there."""
    import os

    import dedup.run
    from dedup.io import Source

    data = b'{"a": 1}\n{"b": 22}\n{"c": 333}\n{"d": 4}'
    source_path = tmp_path / "in.jsonl"
    source_path.write_bytes(data)
    source = Source(str(source_path), "jsonl", "in.jsonl", 0, len(data), 1)
    expected = b'{"a": 1}\n{"c": 333}\n{"d": 4}\n'  # lines 1, 3 and 4 (the last gets its newline)
    out = tmp_path / "out"
    out.write_bytes(b"kept!")
    calls = []

    def short(handle, buffers, offset):
        calls.append(len(buffers))
        return os.pwrite(handle, b"".join(bytes(b) for b in buffers)[:3], offset)

    monkeypatch.setattr(dedup.run.os, "pwritev", short)
    monkeypatch.setattr(dedup.run, "_IOV_MAX", 2)
    written = dedup.run._write_in_place(source, data, [0, 19, 30], (str(out), "out", 5, len(expected)))
    assert written == len(expected) and out.read_bytes() == b"kept!" + expected
    assert len(calls) == -(-len(expected) // 3) and max(calls) == 2


def test_writeback_started_early_leaves_the_bytes_and_a_closed_file_is_no_error(tmp_path):
    """Pass 2's workers start writing each range to the disk as they place it (so the output's
    fsync waits less): the file's bytes are unchanged; where the call cannot be made (nothing
    to write, a closed descriptor, another system) nothing happens and nothing is raised."""
    import os
    import sys

    from dedup.io import start_writeback

    path = tmp_path / "out"
    data = os.urandom(1 << 16)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        os.pwrite(handle, data, 0)
        assert start_writeback(handle, 4096, len(data) - 4096) == sys.platform.startswith("linux")
        assert start_writeback(handle, 0, 0) is False
    finally:
        os.close(handle)
    assert start_writeback(handle, 0, len(data)) is False
    assert path.read_bytes() == data


@pytest.mark.parametrize("layout", ["shards", "ranges", "ranges-lf"])
@pytest.mark.parametrize("report_name", ["report.jsonl", "report.json"])
def test_document_mode_copies_kept_lines_as_the_general_path_writes_them(tmp_path, monkeypatch, layout, report_name):
    """In document mode nothing inside a document changes: pass 2 copies each kept record's line
    by the offset pass 1 noted, without parsing it again; byte ranges with LF line ends are
    copied as runs of bytes. Output and report equal the general path's (a BOM, CRLF line ends,
    blank and malformed lines, a last line with no newline, ids from line numbers)."""
    import dedup.pipeline
    import dedup.run

    records = make_corpus() + make_corpus(seed=9)
    lines = [json.dumps(r, ensure_ascii=False).replace("Westhaven", "Wésthaven") for r in records]
    lines.insert(5, "")
    lines.insert(9, "{not json")
    source = tmp_path / "in"
    source.mkdir()
    if layout == "shards":
        for shard in range(3):
            (source / f"part-{shard}.jsonl").write_text("\r\n".join(lines[shard::3]) + "\r\n", encoding="utf-8")
    else:
        if layout == "ranges-lf":  # a BOM starting a line inside the file too (files joined with cat)
            lines[len(lines) // 2] = "\ufeff" + lines[len(lines) // 2]
        text = "\r\n".join(lines) + "\r\n" if layout == "ranges" else "\n".join(lines)  # (no newline at the end)
        (source / "big.jsonl").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        source = source / "big.jsonl"
        monkeypatch.setattr(dedup.run, "_RANGE_MIN_BYTES", 1)
        monkeypatch.setattr(dedup.run, "_RANGE_BYTES", 2_500)
        monkeypatch.setattr(dedup.run, "_RANGE_TAIL_BYTES", 1_000)
    copied = tmp_path / "copied"
    copy_source = dedup.run._copy_source

    def spy(*args):
        copied.touch()  # a file: the workers are other processes
        return copy_source(*args)

    monkeypatch.setattr(dedup.run, "_copy_source", spy)
    spans, line_spans = tmp_path / "spans", dedup.run._line_spans

    def spans_spy(data, starts):
        spans.touch()
        return line_spans(data, starts)

    monkeypatch.setattr(dedup.run, "_line_spans", spans_spy)
    runs = {}
    for name in ("copy", "general"):
        if name == "general":
            monkeypatch.setattr(dedup.pipeline, "changes_nothing", lambda config, boilerplate: False)
        out = tmp_path / f"out-{name}" / ("" if layout == "shards" else "out.jsonl")
        report = tmp_path / f"{name}-{report_name}"
        result = invoke("clean", source, "-o", out, "--report", report, "--jobs", 2, "--mode", "documents",
                        "--on-error", "skip")
        assert result.exit_code == 0, result.output
        summary = load_report(report.read_text(encoding="utf-8"), str(report))
        for timing in ("seconds", "mb_per_s", "jobs"):
            summary["summary"].pop(timing)
        files = sorted(p for p in (tmp_path / f"out-{name}").rglob("*") if p.is_file())
        runs[name] = ({p.name: p.read_bytes() for p in files}, summary)
        if name == "copy":
            assert copied.exists()
            copied.unlink()
    assert not copied.exists()
    assert runs["copy"] == runs["general"]
    assert runs["copy"][1]["summary"]["duplicate_documents"] > 0
    assert spans.exists() == (layout == "ranges-lf")  # runs of bytes, from ranges with LF line ends only
