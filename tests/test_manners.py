"""The command behaves the way its users expect (issue 19): names, help, exit codes, formats,
summaries, ``inspect`` and ``diff``, all through the CLI."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def distribution_name() -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    return parser["metadata"]["name"]


def test_install_hints_name_this_distribution():
    # PyPI's "dedup" is an unrelated project (0.0.1, 0.0.2, 2017): a hint must never install it.
    name = distribution_name()
    assert name != "dedup"
    files = [*ROOT.joinpath("dedup").rglob("*.py"), ROOT / "README.md", *ROOT.joinpath("docs").glob("*.md")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for hint in re.findall(r"pip install '?([A-Za-z0-9_.-]+)\[", text):
            assert hint in (name, "."), f"{path.name}: pip install {hint}[...] installs another project"
        assert not re.search(r"\bdedup\[(ray|zstd|parquet|datasets|progress|test|lint)\]", text), path.name


# --------------------------------------------------------------------------- CLI

import gzip  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from dedup.cli import main  # noqa: E402

SAMPLE = ROOT / "corpora" / "harbor-fire.txt"
NEWSROOM = ROOT / "corpora" / "newsroom"
SPLICE = ("More than 13,500 people had crossed the border by Tuesday morning.took place as people lined up "
          "for fuel in the capital, officials said on Tuesday evening.\n")


def run(*args, input=None, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


def usage_error(result, *needles):
    """Exit 2, one message naming what was wrong, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def one_line_error(result, *needles, code=1):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert message.startswith("dedup: error:") and "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def story(i):
    return (f"Story {i}: the council of town number {i} met on Monday to discuss the drains, the roads and "
            f"the budget for the year {2000 + i}, and voted {i} times before the meeting ended late.")


def test_help_groups_options_in_sections_with_real_defaults():
    text = run("clean", "--help").stdout
    headings = [line for line in text.splitlines() if line.endswith("options:")]
    assert headings == [f"{s} options:" for s in ("Input", "Output", "Repair", "Matching", "Corpus", "Engine",
                                                  "General")]
    assert "[default: None]" not in text
    assert "derived from --threshold" in text and "all cores" in text
    assert "[first|longest|none]" in text and "[auto|remove|flag|keep]" in text
    assert "[remove|keep_first|flag|keep]" in text
    for command in ([], ["clean"], ["inspect"], ["diff"]):
        assert "Example" in run(*command, "--help").stdout


def test_wrong_choice_names_the_flag_and_lists_values():
    result = run("clean", "--keep", "biggest", "-")
    usage_error(result, "--keep", "'biggest' is not one of", "'longest'")
    assert "keep='biggest'" not in result.stderr
    usage_error(run("clean", "--threshold", "2", "-"), "--threshold 2")


def test_environment_sets_options_and_the_command_line_wins(tmp_path):
    report = tmp_path / "r.json"
    env = {"DEDUP_THRESHOLD": "0.9", "DEDUP_CAPTIONS": "flag"}
    assert run("clean", SAMPLE, "-o", tmp_path / "a.txt", "--report", report, env=env).exit_code == 0
    settings = json.loads(report.read_text(encoding="utf-8"))["settings"]
    assert settings["threshold"] == 0.9 and settings["captions"] == "flag"
    assert run("clean", SAMPLE, "-o", tmp_path / "b.txt", "--report", report, "--force", "--threshold", "0.7",
               env=env).exit_code == 0
    assert json.loads(report.read_text(encoding="utf-8"))["settings"]["threshold"] == 0.7
    usage_error(run("clean", SAMPLE, env={"DEDUP_KEEP": "biggest"}), "--keep")


def test_verbose_and_quiet_contradict():
    usage_error(run("clean", "-v", "-q", "-"), "-v and -q")


@pytest.mark.parametrize(("source", "output", "needle"), [
    ("in.jsonl", "c.parquet", "names a Parquet file but the input is JSONL"),
    ("in.parquet", "c.jsonl", "names a JSONL file but the input is Parquet"),
    ("in.jsonl", "c.txt", "names a text file but the input is JSONL"),
])
def test_output_named_in_another_format_is_refused(tmp_path, source, output, needle):
    pytest.importorskip("pyarrow")
    records = [{"id": str(i), "text": story(i)} for i in range(3)]
    write_jsonl(tmp_path / "in.jsonl", records)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), tmp_path / "in.parquet")
    result = run("clean", tmp_path / source, "-o", tmp_path / output)
    usage_error(result, needle)
    assert result.stderr.strip().count("\n") == 0
    assert not (tmp_path / output).exists()


def test_many_shards_to_one_file_is_refused_not_a_directory(tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    for n in range(2):
        write_jsonl(shards / f"s{n}.jsonl", [{"text": story(n * 10 + i)} for i in range(3)])
    merged = tmp_path / "merged.jsonl"
    usage_error(run("clean", shards / "s0.jsonl", shards / "s1.jsonl", "-o", merged), "does not merge them",
                f"-o {tmp_path / 'merged'}/")
    usage_error(run("clean", shards, "-o", merged), "directory input")
    assert not merged.exists()
    usage_error(run("clean", shards), f"directory input {shards} gives one output per file: pass -o DIR")
    assert run("clean", shards, "-o", tmp_path / "out").exit_code == 0  # a name with no suffix is a directory
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s0.jsonl", "s1.jsonl"]


def test_jsonl_on_stdin_with_input_format(tmp_path):
    lines = "".join(json.dumps({"id": f"r{i}", "text": t}) + "\n"
                    for i, t in enumerate(["It rained.The roads flooded.", story(1), story(1)]))
    result = run("clean", "--input-format", "jsonl", "--report", tmp_path / "r.jsonl", input=lines)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["r0", "r1"]  # the repeat of r1 removed, ids from the records
    assert rows[0]["text"] == "It rained. The roads flooded."
    prose = run("clean", input=lines)  # without the flag stdin is text: a JSONL line is prose
    assert prose.exit_code == 0 and prose.stdout.startswith('{"id": "r0", "text": "It rained. The roads flooded."}\n')
    usage_error(run("clean", "--input-format", "parquet", input=""), "stdin")
    usage_error(run("clean", "--input-format", "jsonl", "--output-format", "parquet", input=lines),
                "--output-format parquet differs")
    same = run("clean", "--input-format", "jsonl", "--output-format", "jsonl", input=lines)
    assert same.exit_code == 0 and same.stdout == result.stdout


def test_hidden_files_are_skipped_in_directories_unless_asked(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / ".git").mkdir(parents=True)
    (corpus / "a.txt").write_text(story(1), encoding="utf-8")
    (corpus / ".notes.txt").write_text(story(2), encoding="utf-8")
    (corpus / ".git" / "HEAD.txt").write_text(story(3), encoding="utf-8")
    assert run("clean", corpus, "-o", tmp_path / "out").exit_code == 0
    assert [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()] == ["a.txt"]
    assert run("clean", corpus, "-o", tmp_path / "all", "--hidden").exit_code == 0
    assert len([p for p in (tmp_path / "all").rglob("*") if p.is_file()]) == 3


def test_records_with_an_id_field_use_it_by_default(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": "a", "text": story(1)}, {"id": "b", "text": story(1)}])
    report = tmp_path / "r.jsonl"
    assert run("clean", source, "-o", tmp_path / "out.jsonl", "--report", report).exit_code == 0
    removed = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()
               if json.loads(line)["type"] == "document"]
    assert [(r["id"], r["duplicate_of"]) for r in removed] == [("b", "a")]
    assert run("clean", source, "-o", tmp_path / "lines.jsonl", "--report", report, "--force",
               "--id-field", "").exit_code == 0
    assert '"duplicate_of": "in.jsonl:1"' in report.read_text(encoding="utf-8")
    missing = tmp_path / "missing.jsonl"
    write_jsonl(missing, [{"id": "a", "text": story(1)}, {"text": story(2)}])
    one_line_error(run("clean", missing, "-o", tmp_path / "m.jsonl"), "missing.jsonl:2",
                   "id field 'id' is missing")
    repeated = tmp_path / "repeated.jsonl"
    write_jsonl(repeated, [{"id": "a", "text": story(1)}, {"id": "a", "text": story(2)}])
    one_line_error(run("clean", repeated, "-o", tmp_path / "r.jsonl2"), "duplicate document id 'a'")


def test_a_run_that_reads_nothing_fails_and_lists_few_skips(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": str(i), "text": story(i)} for i in range(50)])
    result = run("clean", source, "-o", tmp_path / "out.jsonl", "--text-field", "body", "--on-error", "skip", "-v")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("dedup: error: no documents were read: all 50 records were skipped")
    assert "text field 'body' is missing" in lines[-1] and "--text-field" in lines[-1]
    assert len(lines) == 1 and not (tmp_path / "out.jsonl").exists()  # one line; no output left
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    one_line_error(run("clean", empty, "-o", tmp_path / "e.jsonl"), "no documents were read")


def test_verbose_summary_has_plain_values_and_summary_json_has_all(tmp_path):
    out, summary = tmp_path / "out", tmp_path / "summary.json"
    result = run("clean", NEWSROOM, "-o", out, "--boilerplate-min-docs", "3", "-v", "--summary-json", summary)
    assert result.exit_code == 0, result.stderr
    assert "{'" not in result.stderr and "[{" not in result.stderr and "None" not in result.stderr
    assert "top_boilerplate:\n  5 documents: Sign up for our morning newsletter" in result.stderr
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["documents_in"] == 6 and data["documents_out"] == 5 and data["boilerplate_units"] == 3
    assert "documents_in: 6" in result.stderr
    to_stdout = run("clean", NEWSROOM, "-o", tmp_path / "out2", "--boilerplate-min-docs", "3", "--summary-json", "-")
    assert json.loads(to_stdout.stdout)["documents_out"] == 5
    usage_error(run("clean", SAMPLE, "--summary-json", "-"), "both go to stdout")


def test_quiet_prints_nothing_on_success(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(story(1), encoding="utf-8")
    (corpus / "b.bin").write_bytes(b"\x00\x01binary")
    loud = run("clean", corpus, "-o", tmp_path / "o1")
    assert loud.exit_code == 0 and ": a binary file" in loud.stderr
    quiet = run("clean", corpus, "-o", tmp_path / "o2", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_inspect_shows_settings_flags_removed_documents_and_reads_compressed_reports(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": "a", "text": story(1) + " " + SPLICE}, {"id": "b", "text": story(1) + " " + SPLICE},
                         {"id": "c", "text": story(7)}])
    for name in ("r.json", "r.jsonl", "r.jsonl.gz", "r.jsonl.zst"):
        if name.endswith(".zst"):
            pytest.importorskip("zstandard")
        report = tmp_path / name
        assert run("clean", source, "-o", tmp_path / f"{name}.out.jsonl", "--report", report).exit_code == 0
        result = run("inspect", report)
        assert result.exit_code == 0, result.stderr
        text = result.stdout
        assert "settings: " in text and "threshold 0.8" in text and "lsh: " in text
        assert "summary:\n  documents_in: 3" in text
        assert "flags: suspected_splice 1" in text and "a:" in text
        assert "duplicate documents: document_removed 1" in text
        assert "b removed: near duplicate of a (similarity 1.00)" in text
    only = run("inspect", tmp_path / "r.jsonl.gz", "--kind", "suspected_splice").stdout
    assert "settings:" not in only and "suspected_splice" in only and "duplicate documents" not in only


@pytest.mark.parametrize("content", [b'{"text": "a record, not a report"}\n', b"just some prose\n",
                                     b"PAR1\x00\x00\xff\xfe", b"\x1f\x8b\x08\x00garbage"])
def test_inspect_of_something_else_is_one_line(tmp_path, content):
    path = tmp_path / ("thing.jsonl.gz" if content.startswith(b"\x1f\x8b") else "thing.jsonl")
    path.write_bytes(content)
    one_line_error(run("inspect", path), "not a dedup report")


def test_diff_exit_status_and_final_newline(tmp_path):
    clean = tmp_path / "clean.txt"
    clean.write_text("Nothing to change here at all.\n", encoding="utf-8")
    same = run("diff", clean)
    assert same.exit_code == 0 and same.stdout == ""
    glued = tmp_path / "glued.txt"
    glued.write_text("First line is fine.\nIt rained.The roads flooded.", encoding="utf-8")  # no final newline
    result = run("diff", glued)
    assert result.exit_code == 1
    assert result.stdout.endswith("+It rained. The roads flooded.\n\\ No newline at end of file\n")
    if shutil.which("patch"):
        target = tmp_path / "patched.txt"
        shutil.copy(glued, target)
        subprocess.run(["patch", "-s", str(target)], input=result.stdout, text=True, check=True)
        assert target.read_text(encoding="utf-8") == "First line is fine.\nIt rained. The roads flooded."
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Good text.\xff more")
    error = run("diff", bad)
    assert error.exit_code == 2 and "--errors replace" in error.stderr
    assert run("diff", bad, "--errors", "replace").exit_code in (0, 1)  # the option it suggests exists
    assert run("diff", tmp_path / "nope.txt").exit_code == 2
    assert "--threshold" not in run("diff", "--help").stdout  # document settings mean nothing to one text


def test_gzip_report_from_clean_reads_back(tmp_path):
    report = tmp_path / "changes.jsonl.gz"
    assert run("clean", SAMPLE, "-o", tmp_path / "o.txt", "--report", report).exit_code == 0
    assert gzip.decompress(report.read_bytes()).startswith(b'{"type": "run"')
    result = run("inspect", report, "--kind", "caption_removed")
    assert result.exit_code == 0 and "Firefighters spray" in result.stdout


def test_a_missing_file_is_exit_1_in_clean_and_inspect_and_2_in_diff(tmp_path):
    one_line_error(run("clean", tmp_path / "nope.txt"), "nope.txt")
    one_line_error(run("inspect", tmp_path / "nope.json"), "nope.json")
    assert run("diff", tmp_path / "nope.txt").exit_code == 2


def test_usage_errors_of_dedup_itself_are_one_line_and_exit_2(tmp_path):
    one_line_error(run("clean", SAMPLE, "--annotate"), "--annotate needs record inputs", code=2)
    one_line_error(run("clean", SAMPLE, "--ray-address", "auto"), "--ray-address needs --engine ray", code=2)
    one_line_error(run("clean", SAMPLE, "--mode", "documents", "--split-glued"),
                   "--mode documents sets --split-glued to off", code=2)
    one_line_error(run("clean", SAMPLE, "--bands", "4"), "bands and rows go together", code=2)


def test_progress_on_request_and_never_with_quiet(tmp_path):
    pytest.importorskip("tqdm")
    shown = run("clean", NEWSROOM, "-o", tmp_path / "a", "--progress")
    assert shown.exit_code == 0 and shown.stdout == ""
    assert all(f"{stage}: 100%" in shown.stderr for stage in ("prepare", "plan", "write")), shown.stderr
    assert "docs" in shown.stderr and "B/s" in shown.stderr  # documents and bytes
    assert run("clean", NEWSROOM, "-o", tmp_path / "d", "--progress", "-q").stderr == ""  # -q wins
    assert run("clean", NEWSROOM, "-o", tmp_path / "b").stderr == ""  # not a terminal: no progress
    assert run("clean", NEWSROOM, "-o", tmp_path / "c", "-q").stderr == ""


def test_inspect_of_a_kind_that_is_not_there_says_so(tmp_path):
    report = tmp_path / "r.json"
    assert run("clean", SAMPLE, "-o", tmp_path / "o.txt", "--report", report).exit_code == 0
    result = run("inspect", report, "--kind", "suspected_splice")
    assert result.exit_code == 0 and result.stdout.endswith("no change, flag or removed document of kind "
                                                            "suspected_splice\n")


def test_summary_json_needs_its_own_file(tmp_path):
    report = tmp_path / "r.json"
    one_line_error(run("clean", SAMPLE, "-o", tmp_path / "o.txt", "--report", report, "--summary-json", report),
                   "--summary-json", code=2)
    assert not report.exists()


def test_format_rules_hold_for_any_names():
    from hypothesis import given
    from hypothesis import strategies as st

    from dedup.errors import ConfigError
    from dedup.formats import format_of_name, plan_formats

    suffixes = ["", ".txt", ".md", ".jsonl", ".jsonl.gz", ".ndjson", ".json", ".jsonl.zst", ".parquet", ".gz", "/"]
    names = st.builds(lambda stem, suffix: stem + suffix, st.sampled_from(["a", "b.x", "dir"]),
                      st.sampled_from(suffixes))

    @given(st.lists(st.one_of(names, st.just("-")), min_size=1, max_size=3), st.one_of(names, st.just("-")),
           st.sampled_from([None, "text", "jsonl", "parquet"]), st.sampled_from([None, "text", "jsonl", "parquet"]))
    def check(inputs, output, input_format, output_format):
        directories = [name for name in inputs if name.endswith("/")]
        try:
            plan = plan_formats(inputs, output, directories=directories, input_format=input_format,
                                output_format=output_format)
        except ConfigError as error:
            assert "\n" not in str(error)
            return
        named = None if output == "-" or output.endswith("/") else format_of_name(output)
        if plan.many_outputs:
            assert output != "-" and named is None  # one output per input: a directory
        elif named is not None:
            given_formats = {input_format or format_of_name(name) or "text" for name in inputs}
            assert given_formats == {named}  # the output's name says the input's format
        if output_format is not None:
            assert plan.output_format == output_format

    check()


def test_inspect_shows_annotated_duplicates_as_kept(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": "a", "text": story(1)}, {"id": "b", "text": story(1)}])
    report = tmp_path / "r.jsonl"
    assert run("clean", source, "-o", tmp_path / "o.jsonl", "--annotate", "--report", report).exit_code == 0
    text = run("inspect", report).stdout
    assert "duplicate documents: document_annotated 1\n  b kept (annotated): near duplicate of a" in text
