"""``--removed FILE``: the documents a run drops, whole and as read, in the inputs' format; the
output and the removed file together hold every input document exactly once."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import article, invoke, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

NEWSROOM = Path(__file__).resolve().parent.parent / "corpora" / "newsroom"


def _corpus(seed: int, copies: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    for k in range(6):
        text = article(rng, f"topic{k}")
        records.append({"id": f"d{k}", "text": text, "n": 1.00000000000000000000001})
        for c in range(copies if k % 2 == 0 else 0):
            records.append({"id": f"d{k}-copy{c}", "text": text.replace("the", "a", 1), "n": c})
    rng.shuffle(records)
    return records


def test_removed_jsonl_lines_are_the_input_lines(tmp_path):
    source, out, gone = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "gone.jsonl.gz"
    write_jsonl(source, _corpus(3, 2))
    lines = source.read_text(encoding="utf-8").splitlines()
    result = invoke("clean", source, "-o", out, "--removed", gone, "--id-field", "id", "--summary-json",
                    tmp_path / "s.json")
    assert result.exit_code == 0, result.output
    removed = gzip.open(gone, "rt", encoding="utf-8").read().splitlines()
    assert removed and set(removed) <= set(lines)  # byte for byte (1.00000000000000000000001 kept)
    kept = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(kept + [json.loads(line)["id"] for line in removed]) == sorted(json.loads(x)["id"] for x in lines)
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["removed_documents"] == len(removed) == summary["documents_in"] - summary["documents_out"]


def test_removed_text_documents_as_text_or_records(tmp_path):
    # Red team F9: several whole text files would run together in one text file, nothing to tell
    # them apart: refused before anything is written; a dump's documents keep their separators.
    out, gone = tmp_path / "out", tmp_path / "gone.txt"
    refused = invoke("clean", NEWSROOM, "-o", out, "--removed", gone)
    assert refused.exit_code == 2 and "name it .jsonl" in refused.stderr and not gone.exists() and not out.exists()
    reprint = (NEWSROOM / "002-budget-reprint.txt").read_text(encoding="utf-8")
    dump = tmp_path / "dump.txt"
    dump.write_text(reprint + "\n===\n" + reprint, encoding="utf-8")
    assert invoke("clean", dump, "--doc-separator", "^===$", "-o", tmp_path / "d.txt", "--removed", gone).exit_code == 0
    assert gone.read_text(encoding="utf-8").strip() == reprint.strip()
    records = tmp_path / "gone.jsonl"
    assert invoke("clean", NEWSROOM, "-o", tmp_path / "out2", "--removed", records).exit_code == 0
    (record,) = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines()]
    assert record == {"id": "002-budget-reprint.txt", "text": reprint}


def test_removed_parquet_rows(tmp_path):
    records = _corpus(5, 1)
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(records), source)
    gone = tmp_path / "gone.parquet"
    assert invoke("clean", source, "-o", tmp_path / "out.parquet", "--removed", gone, "--id-field", "id").exit_code == 0
    removed = pq.read_table(gone).to_pylist()
    kept = pq.read_table(tmp_path / "out.parquet").column("id").to_pylist()
    assert removed and sorted(kept + [r["id"] for r in removed]) == sorted(r["id"] for r in records)
    by_id = {r["id"]: r for r in records}
    assert all(r == by_id[r["id"]] for r in removed)  # whole rows, unchanged


def test_nothing_removed_writes_an_empty_file_and_annotate_removes_nothing(tmp_path):
    source, gone = tmp_path / "in.jsonl", tmp_path / "gone.jsonl"
    write_jsonl(source, _corpus(7, 1))
    assert invoke("clean", source, "-o", tmp_path / "o.jsonl", "--annotate", "--removed", gone,
                  "--id-field", "id").exit_code == 0
    assert gone.exists() and gone.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("removed, why", [
    ("in.jsonl", "is the input"),
    ("out/gone.jsonl", "a file of its own"),
    ("gone.parquet", "inputs' format"),
    ("-", "a file of its own"),
])
def test_removed_refusals_are_one_line(tmp_path, removed, why, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "in.jsonl", _corpus(1, 1))
    (tmp_path / "shards").mkdir()
    write_jsonl(tmp_path / "shards" / "a.jsonl", _corpus(2, 1))
    inputs = ["in.jsonl"] if removed != "out/gone.jsonl" else ["shards"]
    before = (tmp_path / "in.jsonl").read_bytes()
    result = invoke("clean", *inputs, "-o", "out/" if inputs == ["shards"] else "out.jsonl", "--removed", removed)
    assert result.exit_code != 0 and "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("dedup: error:") and "\n" not in message and why in message, message
    assert (tmp_path / "in.jsonl").read_bytes() == before


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), copies=st.integers(0, 3), jobs=st.sampled_from(["1", "2"]))
def test_output_and_removed_hold_every_document_once(tmp_path_factory, seed, copies, jobs):
    folder = tmp_path_factory.mktemp("removed")
    shards = folder / "shards"
    shards.mkdir()
    records = _corpus(seed, copies)
    write_jsonl(shards / "a.jsonl", records[: len(records) // 2])
    write_jsonl(shards / "b.jsonl", records[len(records) // 2 :])
    out, gone = folder / "out", folder / "gone.jsonl"
    assert invoke("clean", shards, "-o", out, "--removed", gone, "--id-field", "id", "--jobs", jobs).exit_code == 0
    kept = [json.loads(line)["id"] for f in sorted(out.iterdir())
            for line in f.read_text(encoding="utf-8").splitlines()]
    removed = [json.loads(line)["id"] for line in gone.read_text(encoding="utf-8").splitlines()]
    assert sorted(kept + removed) == sorted(r["id"] for r in records)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), copies=st.integers(0, 3), trailing=st.booleans())
def test_dump_output_and_removed_read_back_as_their_documents(tmp_path_factory, seed, copies, trailing):
    # A dump's documents are joined by the separators between them: whichever documents are
    # dropped (the last one too), the output and --removed read back with the same separator as
    # exactly the documents written, with no empty document from a dangling separator.
    folder = tmp_path_factory.mktemp("dump")
    records = _corpus(seed, copies)
    texts = [str(r["text"]).strip() for r in records]
    dump = folder / "dump.txt"
    dump.write_text("\n===\n".join(texts) + ("\n===\n" if trailing else "\n"), encoding="utf-8")
    out, gone = folder / "out.txt", folder / "gone.txt"
    result = invoke("clean", dump, "--doc-separator", "^===$", "--mode", "documents", "-o", out,
                    "--removed", gone, "--summary-json", folder / "s.json")
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / "s.json").read_text(encoding="utf-8"))

    def documents(path: Path) -> list[str]:
        written = path.read_text(encoding="utf-8")
        return [part.strip() for part in written.split("\n===\n")] if written.strip() else []

    kept, removed = documents(out), documents(gone)
    expected = texts + ([""] if trailing else [])
    assert len(kept) == summary["documents_out"] and len(removed) == summary["removed_documents"]
    assert sorted(kept + removed) == sorted(expected)
    if not summary["removed_documents"]:
        assert out.read_bytes() == dump.read_bytes()
