"""Records pass through (issue 15, class 4): fields other than the text keep the input's own
bytes, also when the text changes or --annotate adds fields; --annotate never overwrites a field;
ids keep their JSON type. docs/reliability.md lists these tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.cli import main
from dedup.records import field_spans, patch_record


def clean(*args, input=None):
    return CliRunner().invoke(main, ["clean", *[str(a) for a in args]], input=input)


def one_line_error(result, *needles):
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr, result.exception)
    message = result.stderr.strip()
    assert message.startswith("dedup: error:") and "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def others(line: str, text_field: str = "text") -> list[str]:
    """The bytes of every field but the text, in order."""
    spans, _ = field_spans(line)
    return [line[a:b] for key, (a, b) in spans.items() if key != text_field]


GLUED = "The storm hit the coast.Residents fled inland before dawn."


def test_changed_text_keeps_every_other_byte(tmp_path):
    lines = [
        '{"n": 1e999, "text": "' + GLUED + '", "x": 1.00000000000000000000001, "u": "caf\\u00e9"}',
        '{ "text" :"' + GLUED.replace("storm", "gale") + '" ,"big": ' + "9" * 5000
        + ', "nested": {"b": [1, 2.50, -0e0]}, "t": "x"}',
        '{"text": "ignored", "id": 3, "text": "' + GLUED.replace("storm", "flood") + '"}',
    ]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = clean(source, "-o", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    written = out.read_text(encoding="utf-8").splitlines()
    assert len(written) == 3
    for before, after in zip(lines, written):
        assert others(after) == others(before)
        assert "Residents" in json.loads(after.replace("9" * 5000, "9"))["text"]
        assert ". Residents" in after
    assert written[0].startswith('{"n": 1e999, "text": ')


RAW_VALUES = st.one_of(
    st.sampled_from(["1e999", "-0", "1.00000000000000000000001", "0.1e-400", "true", "null", "[]", "{}",
                     '"caf\\u00e9"', '"\\ud83d\\ude00"', '"a\\/b"', "[1 , 2]", '{"k" :  "v"}', "9" * 400]),
    st.text(max_size=8).map(lambda t: json.dumps(t)),
    st.integers().map(str),
)


@settings(max_examples=40, deadline=None)
@given(fields=st.lists(st.tuples(st.sampled_from(["id", "meta", "n", "url", "dedup"]), RAW_VALUES),
                       max_size=4),
       position=st.integers(0, 4), spaces=st.sampled_from(["", " ", "  "]))
def test_any_record_passes_through_when_its_text_changes(tmp_path_factory, fields, position, spaces):
    """Property: whatever the other fields hold and however the record is spaced, cleaning its text
    changes no byte of them (checked through the CLI)."""
    tmp = tmp_path_factory.mktemp("records")
    items = [f'"{k}":{spaces}{v}' for k, v in fields]
    items.insert(min(position, len(items)), f'"text":{spaces}{json.dumps(GLUED)}')
    line = "{" + ("," + spaces).join(items) + "}"
    source, out = tmp / "in.jsonl", tmp / "out.jsonl"
    source.write_text(line + "\n", encoding="utf-8")
    result = clean(source, "-o", out, "--jobs", 1, "--mode", "full")
    assert result.exit_code == 0, result.stderr
    after = out.read_text(encoding="utf-8").rstrip("\n")
    assert others(after) == others(line)
    assert after != line  # the text did change


def test_annotate_refuses_to_overwrite_a_field_unless_given_a_prefix(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    records = [{"id": 1, "text": GLUED}, {"id": 2, "text": GLUED, "dedup_cluster": "mine"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    one_line_error(clean(source, "-o", out, "--annotate", "--jobs", 1), "in.jsonl:2", "dedup_cluster",
                   "--annotate-prefix")
    assert not out.exists()
    result = clean(source, "-o", out, "--annotate", "--annotate-prefix", "dd_", "--id-field", "id", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written[1]["dedup_cluster"] == "mine"
    assert written[1]["dd_duplicate_of"] == 1  # the keeper's id, as the number it is
    assert set(written[0]) == {"id", "text", "dd_cluster", "dd_duplicate_of", "dd_similarity"}


def test_annotate_refuses_an_existing_parquet_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.table({"text": [GLUED, "Other."], "dedup_similarity": [0.5, 0.25]}), source)
    one_line_error(clean(source, "-o", out, "--annotate", "--jobs", 1), "in.parquet", "dedup_similarity")
    assert not out.exists()
    assert clean(source, "-o", out, "--annotate", "--annotate-prefix", "x_", "--jobs", 1).exit_code == 0
    assert pq.read_table(out).column("dedup_similarity").to_pylist() == [0.5, 0.25]


def test_ids_keep_their_json_type(tmp_path):
    """``1`` and ``"1"`` are two documents, not a repeated id; the report says which is which."""
    source, out, report = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "r.json"
    texts = ["A first story about the harbour.", "A second story about the mountains."]
    source.write_text(json.dumps({"id": 1, "text": texts[0]}) + "\n" + json.dumps({"id": "1", "text": texts[1]})
                      + "\n", encoding="utf-8")
    result = clean(source, "-o", out, "--id-field", "id", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["summary"]["documents_out"] == 2 and data["summary"]["skipped_records"] == []
    assert [d["id"] for d in data["documents"]] == [1, "1"]


def test_ids_of_equal_json_value_still_repeat(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"id": 7, "text": "One."}\n{"id": 7, "text": "Two."}\n', encoding="utf-8")
    one_line_error(clean(source, "-o", out, "--id-field", "id", "--jobs", 1), "duplicate document id")


@pytest.mark.parametrize("field", ["text", "id"])
def test_lone_surrogate_escape_is_one_line_or_replaced(tmp_path, field):
    record = {"id": "doc-1", "text": "Broken text here.Then more."}
    line = json.dumps(record).replace("here.", "here\\ud800." if field == "text" else "here.").replace(
        '"doc-1"', '"doc\\udc00-1"' if field == "id" else '"doc-1"')
    source, out, report = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "r.jsonl"
    source.write_text(line + "\n" + json.dumps({"id": "b", "text": "Fine."}) + "\n", encoding="utf-8")
    one_line_error(clean(source, "-o", out, "--id-field", "id", "--jobs", 1), "in.jsonl:1", "surrogate",
                   "--errors replace")
    assert not out.exists()
    result = clean(source, "-o", out, "--id-field", "id", "--errors", "replace", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    out.read_bytes().decode("utf-8")  # valid UTF-8
    skip = clean(source, "-o", tmp_path / "o2.jsonl", "--id-field", "id", "--on-error", "skip", "--jobs", 1)
    assert skip.exit_code == 0, skip.stderr
    assert (tmp_path / "o2.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_deeply_nested_record_is_one_line(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"text": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    one_line_error(clean(source, "-o", out, "--jobs", 1), "in.jsonl:1", "nested too deeply")


def test_patch_record_examples():
    assert patch_record('{"text": "a"}', "text", "b", {"k": None}) == '{"text": "b", "k": null}'
    assert patch_record("{}", "text", None, {"k": 1}) == '{"k": 1}'
    with pytest.raises(KeyError):
        patch_record('{"k": 0}', "text", None, {"k": 1})


def test_record_through_a_subprocess(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    source = tmp_path / "in.jsonl"
    source.write_text('{"n": 1e999, "text": "' + GLUED + '"}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dedup", "clean", str(source)], capture_output=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b'{"n": 1e999, "text": "The storm hit the coast. Residents')


def test_parquet_columns_pass_through_when_the_text_changes(tmp_path):
    """Other columns keep their types and values (timestamps, decimals, lists, nulls, nested);
    row groups are written as records arrive."""
    import datetime
    import decimal

    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "text": [GLUED, GLUED.replace("storm", "gale"), "Short one."],
        "when": pa.array([datetime.datetime(2024, 1, 1, 12, 0, 0, 123456)] * 3, pa.timestamp("us", tz="UTC")),
        "price": pa.array([decimal.Decimal("1.10"), None, decimal.Decimal("-3.25")], pa.decimal128(10, 2)),
        "tags": [["a", "b"], [], None],
        "meta": [{"k": 1, "v": "x"}, {"k": 2, "v": None}, None],
        "big": pa.array([2**62, -(2**62), 0], pa.int64()),
    })
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, source)
    result = clean(source, "-o", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    written = pq.read_table(out)
    assert written.schema == table.schema
    assert written.drop(["text"]).equals(table.drop(["text"]))
    assert written.column("text").to_pylist()[0] == "The storm hit the coast. Residents fled inland before dawn."
