"""Bad, huge and hostile input, and faults (issue 5): each class has a clear, tested behaviour.

docs/reliability.md lists these classes in a table; each row names the test here that backs it.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import dedup
from dedup.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def one_line_error(result, *needles):
    """The run failed with exit 1 and a single line on stderr containing every needle, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("dedup: error:") and "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def no_leftovers(directory: Path) -> list[str]:
    """Temporary ``.part`` files under ``directory`` (there must be none)."""
    return [str(p) for p in directory.rglob("*.part")]


def report_summary(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["summary"]


def test_report_on_the_output_is_one_line_error(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "One sentence here. Another one there."}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    one_line_error(run("clean", source, "-o", out, "--report", tmp_path / "." / "out.jsonl", "--force"),
                   "out.jsonl", "both the output and the report")
    assert not out.exists() and not no_leftovers(tmp_path)


# --------------------------------------------------------------------------- encodings


def test_invalid_utf8_names_file_and_byte(tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"Good text here.\n" * 3 + b"Then \xff\xfe junk.")
    out = tmp_path / "out.txt"
    one_line_error(run("clean", source, "-o", out), "bad.txt", "byte 53", "--errors replace")
    assert not out.exists() and not no_leftovers(tmp_path)


def test_invalid_utf8_with_errors_replace_completes(tmp_path):
    source, out = tmp_path / "bad.txt", tmp_path / "out.txt"
    source.write_bytes(b"Good text here.Then \xff\xfe junk.")
    result = run("clean", source, "-o", out, "--errors", "replace")
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8") == "Good text here. Then \ufffd\ufffd junk."


def test_invalid_utf8_in_jsonl_names_line(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'{"text": "fine."}\n{"text": "caf\xe9."}\n')
    one_line_error(run("clean", source, "-o", tmp_path / "o.jsonl", "--jobs", 1), "bad.jsonl:2", "byte")


def test_latin1_with_encoding_option(tmp_path):
    source, out = tmp_path / "latin.txt", tmp_path / "out.txt"
    source.write_bytes("Café au lait. Señor Müller paid.".encode("latin-1"))
    one_line_error(run("clean", source, "-o", out), "latin.txt", "byte 3")
    result = run("clean", source, "-o", out, "--encoding", "latin-1")
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8") == "Café au lait. Señor Müller paid."


def test_unknown_encoding_is_one_line_error(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("Hello.", encoding="utf-8")
    one_line_error(run("clean", source, "--encoding", "klingon-8"), "klingon-8")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-8-sig"])
def test_bom_files(tmp_path, codec):
    text = "Žluťoučký kůň runs.Then ďábelské ódy."
    data = {"utf-16": text.encode("utf-16"),
            "utf-16-le-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
            "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
            "utf-8-sig": text.encode("utf-8-sig")}[codec]
    source, out = tmp_path / "bom.txt", tmp_path / "out.txt"
    source.write_bytes(data)
    result = run("clean", source, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8") == "Žluťoučký kůň runs. Then ďábelské ódy."


@pytest.mark.parametrize("text, expected", [
    ("Il pleut.Élodie est là.", "Il pleut. Élodie est là."),
    ("Es regnet.Über alles.", "Es regnet. Über alles."),
    ("Kůň běží.Then it stops.", "Kůň běží. Then it stops."),
])
def test_glued_boundary_before_non_ascii_capital(text, expected):
    assert dedup.clean(text) == expected


def test_utf16_file_in_directory_is_not_skipped_as_binary(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes("Wide text lives here.".encode("utf-16"))
    (corpus / "b.txt").write_text("Narrow text lives here.", encoding="utf-8")
    report = tmp_path / "r.json"
    result = run("clean", corpus, "-o", tmp_path / "out", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == "Wide text lives here."
    assert report_summary(report)["skipped_files"] == []


# --------------------------------------------------------------------------- directories and sizes


def test_binary_file_in_directory_is_skipped_and_counted(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Hello there.It works.", encoding="utf-8")
    (corpus / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (corpus / "blob.txt").write_bytes(b"text\x00with NUL\x00bytes")
    report = tmp_path / "r.json"
    result = run("clean", corpus, "-o", str(tmp_path / "out") + "/", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert "image.png: a binary file" in result.stderr and "blob.txt: a binary file" in result.stderr
    skipped = report_summary(report)["skipped_files"]
    assert sorted(Path(p).name for p in skipped) == ["blob.txt", "image.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt"]
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == "Hello there. It works."


def test_empty_file(tmp_path):
    source, out, report = tmp_path / "empty.txt", tmp_path / "out.txt", tmp_path / "r.json"
    source.write_bytes(b"")
    result = run("clean", source, "-o", out, "--report", report)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == b""
    assert report_summary(report)["documents_in"] == 1


def test_directory_input_with_one_file_writes_a_directory(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Hello there.", encoding="utf-8")
    (corpus / "b.bin").write_bytes(b"\x00\x01\x02")
    result = run("clean", corpus, "-o", tmp_path / "out", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == "Hello there."


def test_empty_file_among_others_in_directory(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "full.txt").write_text("Some words here.", encoding="utf-8")
    report = tmp_path / "r.json"
    result = run("clean", corpus, "-o", tmp_path / "out", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert report_summary(report)["documents_in"] == 2
    assert (tmp_path / "out" / "full.txt").read_text(encoding="utf-8") == "Some words here."


@pytest.mark.parametrize("text", ["", " ", "\n\n\n", " \t \r\n \u00a0\u3000 \n"])
def test_whitespace_only_documents(text):
    result = dedup.clean_and_explain(text)
    assert result.text.strip() == ""
    assert dedup.clean(result.text) == result.text


def test_whitespace_only_jsonl_records(tmp_path):
    source, out = tmp_path / "ws.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["", "   ", "\n\t\n", "Real text."]),
                      encoding="utf-8")
    result = run("clean", source, "-o", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    texts = [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert texts[-1] == "Real text." and len(texts) >= 2


def test_one_giant_line(tmp_path):
    """A few MB with no newline (the issue's 100 MB case, scaled for a test): finishes, loses nothing."""
    sentence = "The council met on Sept. 25, 2023 and voted 7-2 on the 3.5 percent levy"
    words = (sentence + ", and ") * 40_000  # about 3.9 MB, one line, no sentence end
    source, out, report = tmp_path / "giant.txt", tmp_path / "out.txt", tmp_path / "r.json"
    source.write_text(words, encoding="utf-8")
    started = time.perf_counter()
    result = run("clean", source, "-o", out, "--report", report)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.stderr
    cleaned = out.read_text(encoding="utf-8")
    assert "\n" not in cleaned
    summary = report_summary(report)
    assert summary["bytes_in"] == len(words.encode("utf-8"))
    removed = sum(len(c["before"]) - len(c["after"]) for d in json.loads(report.read_text())["documents"]
                  for c in d["changes"])
    assert len(cleaned) == len(words) - removed
    assert elapsed < 120


# --------------------------------------------------------------------------- records


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_malformed_jsonl_fail_names_file_and_line(tmp_path):
    source = _jsonl(tmp_path / "m.jsonl", ['{"text": "One."}', '{"text": "Two."}', '{broken', '{"text": "Four."}'])
    out = tmp_path / "out.jsonl"
    one_line_error(run("clean", source, "-o", out, "--jobs", 1), "m.jsonl:3", "not valid JSON", "--on-error skip")
    assert not out.exists()


def test_malformed_jsonl_skip_is_counted_in_report(tmp_path):
    source = _jsonl(tmp_path / "m.jsonl", ['{"text": "One."}', '{broken', '[1, 2]', '{"text": "Four."}'])
    out, report = tmp_path / "out.jsonl", tmp_path / "r.json"
    result = run("clean", source, "-o", out, "--report", report, "--on-error", "skip", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert [json.loads(x)["text"] for x in out.read_text(encoding="utf-8").splitlines()] == ["One.", "Four."]
    skipped = report_summary(report)["skipped_records"]
    assert [(Path(s["source"]).name, s["line"]) for s in skipped] == [("m.jsonl", 2), ("m.jsonl", 3)]
    assert "not valid JSON" in skipped[0]["problem"] and "JSON object" in skipped[1]["problem"]


@pytest.mark.parametrize("record, problem", [
    ('{"body": "no text field"}', "missing"),
    ('{"text": 5}', "not a string"),
    ('{"text": null}', "not a string"),
    ('{"text": ["a", "b"]}', "not a string"),
])
def test_missing_or_non_string_text_field(tmp_path, record, problem):
    source = _jsonl(tmp_path / "f.jsonl", ['{"text": "Fine."}', record])
    one_line_error(run("clean", source, "-o", tmp_path / "o.jsonl", "--jobs", 1), "f.jsonl:2", "'text'", problem)
    report = tmp_path / "r.json"
    result = run("clean", source, "-o", tmp_path / "o2.jsonl", "--report", report, "--on-error", "skip", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert [s["line"] for s in report_summary(report)["skipped_records"]] == [2]


def test_text_field_option(tmp_path):
    source = _jsonl(tmp_path / "f.jsonl", ['{"body": "It rained.It poured."}'])
    out = tmp_path / "o.jsonl"
    result = run("clean", source, "-o", out, "--text-field", "body", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["body"] == "It rained. It poured."


def test_duplicate_ids_with_id_field(tmp_path):
    source = _jsonl(tmp_path / "d.jsonl", ['{"id": "a", "text": "First text."}', '{"id": "b", "text": "Second."}',
                                           '{"id": "a", "text": "Third text."}'])
    out = tmp_path / "o.jsonl"
    one_line_error(run("clean", source, "-o", out, "--id-field", "id", "--jobs", 1), "duplicate document id 'a'")
    assert not out.exists() and not no_leftovers(tmp_path)


def test_duplicate_ids_skipped_and_listed(tmp_path):
    source = _jsonl(tmp_path / "d.jsonl", ['{"id": "a", "text": "First text."}', '{"id": "b", "text": "Second."}',
                                           '{"id": "a", "text": "Third text."}'])
    out, report = tmp_path / "o.jsonl", tmp_path / "r.json"
    result = run("clean", source, "-o", out, "--id-field", "id", "--on-error", "skip", "--report", report)
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["text"] for x in out.read_text(encoding="utf-8").splitlines()] == ["First text.", "Second."]
    skipped = json.loads(report.read_text(encoding="utf-8"))["summary"]["skipped_records"]
    assert skipped == [{"source": str(source), "line": 3, "problem": "duplicate id 'a'"}]


def test_unique_ids_with_id_field_are_kept(tmp_path):
    source = _jsonl(tmp_path / "d.jsonl", ['{"id": 1, "text": "First text."}', '{"id": 2, "text": "Second."}'])
    out = tmp_path / "o.jsonl"
    assert run("clean", source, "-o", out, "--id-field", "id", "--jobs", 1).exit_code == 0
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == [1, 2]


# --------------------------------------------------------------------------- compressed and Parquet


def _records(n: int) -> bytes:
    return b"".join(json.dumps({"text": f"Document number {i} says hello."}).encode() + b"\n" for i in range(n))


def test_truncated_gzip_jsonl(tmp_path):
    data = gzip.compress(_records(3000))
    source, out = tmp_path / "t.jsonl.gz", tmp_path / "o.jsonl.gz"
    source.write_bytes(data[: len(data) // 2])
    one_line_error(run("clean", source, "-o", out, "--jobs", 1), "t.jsonl.gz", "truncated")
    assert not out.exists() and not no_leftovers(tmp_path)


def test_truncated_gzip_text(tmp_path):
    data = gzip.compress(b"Plain text here. " * 5000)
    source = tmp_path / "t.txt.gz"
    source.write_bytes(data[: len(data) // 2])
    one_line_error(run("clean", source, "-o", tmp_path / "o.txt"), "t.txt.gz", "truncated")


def test_truncated_zstd_jsonl(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    data = zstandard.ZstdCompressor().compress(_records(3000))
    source, out = tmp_path / "t.jsonl.zst", tmp_path / "o.jsonl.zst"
    source.write_bytes(data[: len(data) // 2])
    one_line_error(run("clean", source, "-o", out, "--jobs", 1), "t.jsonl.zst", "truncated")
    assert not out.exists() and not no_leftovers(tmp_path)


def test_multi_frame_zstd_reads_every_frame(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    data = _records(500)
    half = data.index(b"\n", len(data) // 2) + 1
    compressor = zstandard.ZstdCompressor()
    source, out, report = tmp_path / "m.jsonl.zst", tmp_path / "o.jsonl.zst", tmp_path / "r.json"
    source.write_bytes(compressor.compress(data[:half]) + compressor.compress(data[half:]))
    result = run("clean", source, "-o", out, "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert report_summary(report)["documents_in"] == 500


def test_not_gzip_at_all(tmp_path):
    source = tmp_path / "fake.jsonl.gz"
    source.write_bytes(b'{"text": "I am not compressed."}\n')
    one_line_error(run("clean", source, "-o", tmp_path / "o.jsonl.gz", "--jobs", 1), "fake.jsonl.gz")


def test_parquet_with_another_schema(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source, out = tmp_path / "p.parquet", tmp_path / "o.parquet"
    pq.write_table(pa.table({"body": ["a b c.", "d e f."], "n": [1, 2]}), source)
    result = run("clean", source, "-o", out, "--jobs", 1)
    one_line_error(result, "p.parquet", "no column 'text'", "body", "--text-field")
    assert not out.exists()
    result = run("clean", source, "-o", out, "--text-field", "body", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert pq.read_table(out).column("body").to_pylist() == ["a b c.", "d e f."]


def test_parquet_with_non_text_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), source)
    one_line_error(run("clean", source, "-o", tmp_path / "o.parquet", "--jobs", 1), "p.parquet", "not text")


def test_garbage_parquet(tmp_path):
    source = tmp_path / "p.parquet"
    source.write_bytes(b"PAR1 this is not really parquet")
    one_line_error(run("clean", source, "-o", tmp_path / "o.parquet", "--jobs", 1), "p.parquet", "Parquet")


# --------------------------------------------------------------------------- hostile text


HOSTILE = {
    "nul_and_controls": "Start\x00middle\x01\x02\x1b[31m red\x7f\x85end.Next\x0b\x0csentence.",
    "rtl": "مرحبا بالعالم.هذا نص عربي. שלום עולם.זה טקסט.\u202eevil\u202c done.",
    "mixed_scripts": "Pусский и English mixed.Ελληνικά too. 日本語とEnglish.",
    "combining": "e\u0301e\u0301e\u0301. Z\u0335\u0321\u0327a\u0337\u0322lgo\u0336 text.Ok then.",
    "emoji": "Family 👩‍👩‍👧‍👦 here.Flags 🇺🇦🇯🇵 and skin 👍🏽.🙂🙂🙂",
    "cjk_no_spaces": "今天天气很好。我们去公园散步吧。今天天气很好。東京は晴れです。東京は晴れです。",
    "zero_width_and_bidi": "a\u200bb\u200cc\u200dd\u2060e\ufeff.\u2066isolate\u2069 end.",
    "surrogate_like_and_private": "\ue000\uf8ff\U000f0000 private use.\ufffd\ufffe end.",
    "line_separators": "one\u2028two\u2029three\x85four.\r\nfive\r\rsix.",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_sane(name):
    text = HOSTILE[name]
    result = dedup.clean_and_explain(text)
    from dedup.edits import Edit, apply_edits

    assert apply_edits(text, [Edit(c.start, c.end, c.after, c.kind) for c in result.changes]) == result.text
    assert dedup.clean(result.text) == result.text
    assert dedup.clean_and_explain(text) == result
    # nothing mangled: every non-space character of the output is in the input, in order
    kept = iter(ch for ch in text)
    assert all(any(ch == k for k in kept) for ch in result.text if not ch.isspace()) or any(
        c.kind == "encoding_fixed" or "encoding_fixed" in c.absorbed for c in result.changes)


def test_cjk_repeats_are_found_without_spaces():
    text = ("今天天气很好，我们一起去公园散步，然后在湖边吃午饭。\n\n"
            "东京今天是晴天，气温二十五度，适合出门旅行。\n\n"
            "今天天气很好，我们一起去公园散步，然后在湖边吃午饭。")
    result = dedup.clean_and_explain(text)
    assert result.text.count("今天天气很好") == 1, result.text
    assert "东京今天是晴天" in result.text


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_through_cli(tmp_path, name):
    source, out = tmp_path / "h.txt", tmp_path / "o.txt"
    source.write_text(HOSTILE[name], encoding="utf-8", newline="")
    result = run("clean", source, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().decode("utf-8") == dedup.clean(source.read_bytes().decode("utf-8"))


# --------------------------------------------------------------------------- outputs


def test_output_equal_to_input_refused(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    one_line_error(run("clean", source, "-o", source), "never overwrites its input")
    assert source.read_text(encoding="utf-8") == "It rained.It poured."


def test_output_equal_to_input_through_another_path_refused(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    one_line_error(run("clean", source, "-o", tmp_path / "sub" / ".." / "a.txt", "--force"), "never overwrites")
    assert source.read_text(encoding="utf-8") == "It rained.It poured."


def test_report_equal_to_input_refused(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    one_line_error(run("clean", source, "-o", tmp_path / "o.txt", "--report", source, "--force"), "never overwrites")
    assert source.read_text(encoding="utf-8") == "It rained.It poured."


def test_output_inside_input_directory_refused(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Text.", encoding="utf-8")
    one_line_error(run("clean", corpus, "-o", corpus / "out", "--jobs", 1), "inside input directory")


def test_existing_output_refused_without_force(tmp_path):
    source, out, report = tmp_path / "a.txt", tmp_path / "o.txt", tmp_path / "r.json"
    source.write_text("It rained.It poured.", encoding="utf-8")
    out.write_text("precious", encoding="utf-8")
    one_line_error(run("clean", source, "-o", out), "already exists", "--force")
    assert out.read_text(encoding="utf-8") == "precious"
    report.write_text("old report", encoding="utf-8")
    one_line_error(run("clean", source, "-o", tmp_path / "new.txt", "--report", report), "already exists")
    assert report.read_text(encoding="utf-8") == "old report"
    assert not (tmp_path / "new.txt").exists()
    assert run("clean", source, "-o", out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8") == "It rained. It poured."


def test_no_partial_output_after_failure_mid_file(tmp_path):
    lines = [json.dumps({"text": f"Record {i} is fine.It has two sentences."}) for i in range(2000)]
    lines[1500] = '{"text": "broken'
    source = _jsonl(tmp_path / "m.jsonl", lines)
    out, report = tmp_path / "o.jsonl", tmp_path / "r.json"
    one_line_error(run("clean", source, "-o", out, "--report", report, "--jobs", 1), "m.jsonl:1501")
    assert not out.exists() and not report.exists()
    assert no_leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.jsonl"]


def test_no_partial_output_in_directory_mode_after_failure(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    for i in range(5):
        _jsonl(corpus / f"s{i}.jsonl", [json.dumps({"text": f"Shard {i} record {j}."}) for j in range(50)])
    _jsonl(corpus / "s5.jsonl", ['{"text": "ok."}', "not json"])
    out = tmp_path / "out"
    one_line_error(run("clean", corpus, "-o", out, "--jobs", 1), "s5.jsonl:2")
    assert not out.exists() or list(out.rglob("*")) == []
    assert no_leftovers(tmp_path) == []


def test_unwritable_output_is_one_line_error(tmp_path):
    source, blocker = tmp_path / "a.txt", tmp_path / "somefile.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    blocker.write_text("I am a file", encoding="utf-8")
    one_line_error(run("clean", source, "-o", blocker / "out.txt"), "cannot write", "somefile.txt")
    one_line_error(run("clean", source, "-o", blocker / "deeper" / "out.txt"), "cannot write", "not a directory")
    one_line_error(run("clean", source, "-o", tmp_path / "o.txt", "--report", blocker / "r.json"), "cannot write")
    assert blocker.read_text(encoding="utf-8") == "I am a file"
    assert no_leftovers(tmp_path) == []


def test_write_failure_removes_temporary_file(tmp_path, monkeypatch):
    """A failure while writing (e.g. disk full) leaves neither the output nor its temporary file."""
    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    source, out = tmp_path / "a.txt", tmp_path / "o.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    one_line_error(run("clean", source, "-o", out), "o.txt", "No space left on device")
    assert not out.exists() and no_leftovers(tmp_path) == []


# --------------------------------------------------------------------------- signals


def _big_corpus(directory: Path, files: int = 60) -> None:
    import random

    rng = random.Random(5)
    words = "the blast was heard across town and residents fled north while officials said more".split()
    directory.mkdir()
    for i in range(files):
        paragraphs = (" ".join(rng.choice(words) for _ in range(40)) + "." for _ in range(300))
        (directory / f"f{i:03d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("wait_for_output", [False, True], ids=["during_fingerprinting", "during_writing"])
def test_sigterm_mid_run_leaves_no_partial_output(tmp_path, wait_for_output):
    corpus, out = tmp_path / "big_dir", tmp_path / "out"
    _big_corpus(corpus)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(out) + "/",
                                "--jobs", "1"], stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 120
    if wait_for_output:
        while time.monotonic() < deadline and process.poll() is None:
            if out.is_dir() and any(out.iterdir()):
                break
            time.sleep(0.02)
    else:
        time.sleep(1.5)
    if process.poll() is not None:
        pytest.skip("the run finished before it could be interrupted")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    if process.returncode == -signal.SIGTERM and not stderr:
        pytest.skip("the signal arrived while Python was still starting, before dedup could handle it")
    assert process.returncode == 130, (process.returncode, stderr)
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert no_leftovers(tmp_path) == []
    # whatever output files exist are complete: identical to what an uninterrupted run writes
    finished = sorted(out.rglob("*")) if out.exists() else []
    if finished:
        full = tmp_path / "full"
        result = subprocess.run([sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(full) + "/",
                                 "--jobs", "1"], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        for path in finished:
            assert path.read_bytes() == (full / path.relative_to(out)).read_bytes(), path


# --------------------------------------------------------------------------- security


def test_no_pickle_anywhere_in_the_package():
    offenders = []
    for path in (ROOT / "dedup").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("import pickle", "from pickle", "cPickle", "allow_pickle=True", "dill", "joblib.load",
                       "torch.load", "shelve", "marshal.load"):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []


def test_saved_numpy_state_refuses_pickles(tmp_path):
    """Any np.load in the package passes allow_pickle=False (numpy's default, kept explicit or implied)."""
    import re

    for path in (ROOT / "dedup").rglob("*.py"):
        for call in re.findall(r"np\.load\([^)]*\)", path.read_text(encoding="utf-8")):
            assert "allow_pickle=True" not in call, (path.name, call)


# --------------------------------------------------------------------------- found by scripts/fuzz.py


def test_idempotent_when_a_repair_pushes_lines_to_the_wrap_width():
    text = "We left in the morning.took a\nbus home and it was very late\nthat night and we were tired\nof it."
    once = dedup.clean(text)
    assert dedup.clean(once) == once


def test_idempotent_when_a_quote_space_changes_the_token_after_a_period():
    once = dedup.clean('3.Gs"e"@')
    assert dedup.clean(once) == once


def test_removal_merged_with_encoding_fix_says_so():
    result = dedup.clean_and_explain("â€™3.Ga \x00lks past, on Sep 5, 2023")
    for change in result.changes:
        if change.kind.endswith("_removed") and change.after:
            assert "encoding_fixed" in change.absorbed, change



def _worker_dies(task, context):
    os._exit(3)  # a worker killed mid-task (out of memory, kill -9)


def test_worker_death_fails_loudly():
    from dedup.engines import PoolEngine

    engine = PoolEngine(2)
    try:
        with pytest.raises(dedup.DedupError, match="a worker process died"):
            list(engine.map(_worker_dies, range(6), None))
    finally:
        engine.close()


def test_decompression_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.txt.gz"
    with gzip.open(bomb, "wb") as handle:
        for _ in range(64):
            handle.write(b"A" * (1 << 20))  # 64 MiB of text from a file of a few hundred KiB
    assert bomb.stat().st_size < (1 << 20)
    result = run("clean", bomb, "-o", tmp_path / "o.txt", "--max-document-bytes", 1 << 20)
    one_line_error(result, "larger than 1,048,576 bytes once decompressed")
    lines = tmp_path / "bomb.jsonl.gz"
    with gzip.open(lines, "wb") as handle:
        handle.write(b'{"text": "' + b"A" * (4 << 20) + b'"}\n')
    result = run("clean", lines, "-o", tmp_path / "o.jsonl", "--max-document-bytes", 1 << 20)
    one_line_error(result, "bomb.jsonl.gz:1: a document larger than")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and FIFOs")
def test_links_and_fifos_in_a_directory_are_named_as_skipped(tmp_path):
    # Red team F7: a link to a directory, a broken link and a FIFO were skipped without a word.
    corpus, other = tmp_path / "in", tmp_path / "other"
    corpus.mkdir()
    other.mkdir()
    (corpus / "a.txt").write_text("Hello there.It works.", encoding="utf-8")
    (other / "b.txt").write_text("Other text.It is glued.", encoding="utf-8")
    (corpus / "sub").symlink_to(other)
    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere")
    os.mkfifo(corpus / "pipe.txt")
    report = tmp_path / "r.json"
    result = run("clean", corpus, "-o", str(tmp_path / "out") + "/", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert "sub: a symbolic link to a directory, not followed" in result.stderr
    assert "dangling.txt: a broken symbolic link" in result.stderr
    assert "pipe.txt: not a regular file" in result.stderr
    skipped = report_summary(report)["skipped_files"]
    assert sorted(Path(p).name for p in skipped) == ["dangling.txt", "pipe.txt", "sub"]


def test_lines_keeps_blank_lines_as_documents(tmp_path):
    # Red team F8: --lines dropped blank and whitespace-only lines with no record.
    source = tmp_path / "lines.txt"
    source.write_text("First line.It glued.\n\nSecond line here.\n   \nFirst line.It glued.\nlast no newline")
    report, out, removed = tmp_path / "r.json", tmp_path / "o.txt", tmp_path / "rm.jsonl"
    result = run("clean", source, "--lines", "--report", report, "-o", out, "--removed", removed)
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == "First line. It glued.\n\nSecond line here.\n   \nlast no newline\n"
    assert [json.loads(line)["id"] for line in removed.read_text().splitlines()] == ["lines.txt:5"]
    assert report_summary(report)["documents_in"] == 6
