"""Every bad input or setting is one clear line, never a traceback (issue 15, class 5): the cases
the issue lists, plus hypothesis fuzzing the CLI with hostile records and file names.
docs/reliability.md lists these tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.cli import main

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def clean(*args, input=None):
    return CliRunner().invoke(main, ["clean", *[str(a) for a in args]], input=input)


def no_traceback(result, codes=(0, 1, 2)):
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in codes, (result.exit_code, result.stderr)
    if result.exit_code == 1:
        message = result.stderr.strip()
        assert message.startswith("dedup: error:") and "\n" not in message, message
    return result.stderr


@pytest.mark.parametrize("args, needles", [
    (["--bands", "20", "--rows", "10"], ["bands=20", "rows=10", "num_perm=128", "--num-perm"]),
    (["--memory", "infG"], ["--memory", "infG"]),
    (["--memory", "nanG"], ["--memory", "nanG"]),
    (["--memory", "-1G"], ["--memory"]),
    (["--max-document-bytes", "-1"], ["--max-document-bytes", "-1"]),
    (["--max-document-bytes", "0"], ["--max-document-bytes"]),
    (["--jobs", "-3"], ["--jobs"]),
])
def test_bad_settings_are_usage_errors_naming_the_flag(tmp_path, args, needles):
    source = tmp_path / "a.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    result = clean(source, *args)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_huge_integer_passes_through(tmp_path):
    source, out = tmp_path / "a.jsonl", tmp_path / "o.jsonl"
    line = '{"n": ' + "7" * 5000 + ', "text": "It rained.It poured."}'
    source.write_text(line + "\n", encoding="utf-8")
    result = clean(source, "-o", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8") == line.replace("rained.It", "rained. It") + "\n"


@pytest.mark.skipif(sys.platform != "linux", reason="non-UTF-8 file names")
def test_non_utf8_file_names(tmp_path):
    corpus = tmp_path / "d"
    corpus.mkdir()
    (corpus / "a.txt").write_text("It rained.It poured.", encoding="utf-8")
    os.close(os.open(os.fsencode(str(corpus)) + b"/bad\xff.txt", os.O_WRONLY | os.O_CREAT, 0o644))
    with open(os.fsencode(str(corpus)) + b"/bad\xff.txt", "wb") as handle:
        handle.write(b"Some text.Here it is.")
    report = tmp_path / "r.json"
    result = clean(corpus, "-o", tmp_path / "out", "--report", report, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))  # strict JSON, valid UTF-8
    assert sorted(d["id"] for d in data["documents"]) == ["a.txt", "bad\udcff.txt"]
    assert (tmp_path / "out").joinpath(os.fsdecode(b"bad\xff.txt")).read_text() == "Some text. Here it is."


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file descriptors")
def test_closed_and_full_stdout_are_one_line(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("It rained.It poured.", encoding="utf-8")
    closed = subprocess.run([sys.executable, "-m", "dedup", "clean", str(source)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path,
                            preexec_fn=lambda: os.close(1))
    assert closed.returncode == 1 and closed.stderr.strip().count("\n") == 0, closed.stderr
    assert "stdout is closed" in closed.stderr
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "dedup", "clean", str(source)], stdout=full,
                                  stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert done.stderr == "dedup: error: stdout: cannot write: No space left on device\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_closed_pipe_is_quiet(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("".join(f"Line {i} of the file.\n" for i in range(50_000)), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "dedup", "clean", str(source), "--mode", "documents"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=ENV, cwd=tmp_path)
    process.stdout.read(10)
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and b"Traceback" not in stderr and b"Exception ignored" not in stderr, stderr


HOSTILE = st.sampled_from([
    '{"text": "a\\ud800b"}', '{"text": "\\udfff"}', '{"text": 1}', '{"text": null}', "[1, 2]", "nul\x00l",
    '{"text": "ok.Fine."}', '{"text": "x", "id": "\\udc00"}', '{"text": "x", "id": 1}', '{"text": "x", "id": "1"}',
    '{"text": "x", "id": [1, {"a": null}]}', '{"text": "x", "id": 1e999}', '{"text": "x"', "{}", '"text"',
    '{"text": "' + "x" * 3000 + '"}', '{"text": "x", "n": ' + "9" * 5000 + "}", "[" * 5000 + "]" * 5000,
    '{"text": "x", "dedup_cluster": 1}', '{"text": "\\u0000\\u001f\\u2028"}', '{"text": "x", "text": 2}',
    '\ufeff{"text": "bom"}', '{"text": "x"}\r', " ", "",
])


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.one_of(HOSTILE, st.text(max_size=30)), min_size=1, max_size=6),
       flags=st.lists(st.sampled_from([["--on-error", "skip"], ["--errors", "replace"], ["--id-field", "id"],
                                       ["--annotate"], ["--mode", "documents"], ["--lines"]]),
                      unique_by=lambda f: f[0], max_size=3))
def test_fuzzed_records_through_the_cli_never_trace_back(tmp_path_factory, lines, flags):
    """Property: any mix of hostile JSONL lines and options ends in output or one error line."""
    tmp = tmp_path_factory.mktemp("fuzz")
    source = tmp / "in.jsonl"
    source.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    before = source.read_bytes()
    report = tmp / "r.jsonl"
    result = clean(source, "-o", tmp / "out.jsonl", "--report", report, "--jobs", 1,
                   *[part for flag in flags for part in flag])
    no_traceback(result)
    assert source.read_bytes() == before
    if result.exit_code == 0 and report.exists():
        for line in report.read_text(encoding="utf-8").splitlines():
            json.loads(line)


@settings(max_examples=25, deadline=None)
@given(name=st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\x00" not in b
                                                    and b not in (b".", b"..")))
@pytest.mark.skipif(sys.platform != "linux", reason="arbitrary byte file names")
def test_any_file_name_is_cleaned_or_refused_in_one_line(tmp_path_factory, name):
    tmp = tmp_path_factory.mktemp("names")
    corpus = os.fsencode(str(tmp)) + b"/in"
    os.mkdir(corpus)
    with open(corpus + b"/" + name, "wb") as handle:
        handle.write(b"It rained.It poured.")
    result = clean(os.fsdecode(corpus), "-o", tmp / "out", "--report", tmp / "r.json", "--jobs", 1)
    no_traceback(result)
    if result.exit_code == 0:
        json.loads((tmp / "r.json").read_text(encoding="utf-8"))


def test_stdin_honours_max_document_bytes():
    result = clean("-", "--max-document-bytes", "100", input="It rained. " * 50)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.strip() == ("dedup: error: stdin: a document larger than 100 bytes once decompressed; "
                                     "raise --max-document-bytes if it is genuine")
    assert clean("-", "--max-document-bytes", "1000", input="It rained. " * 50).exit_code == 0
