"""Nothing lost (issue 15, class 1): every output path is planned and checked before anything is
written. Hostile layouts of inputs and outputs (nested, symlinked, hard-linked, repeated names,
``-o ''``, ``-o .``, devices, FIFOs) never change an input byte; refusals are one line naming both
paths. docs/reliability.md lists these tests."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.cli import main

ROOT = Path(__file__).resolve().parent.parent
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths, links and devices")


def clean(*args, input=None):
    return CliRunner().invoke(main, ["clean", *[str(a) for a in args]], input=input)


def refused(result, *needles):
    """The run failed with one line on stderr, no traceback, naming every needle."""
    assert result.exit_code in (1, 2), (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    message = result.stderr.strip()
    assert message.startswith(("dedup: error:", "Usage:")), message
    if message.startswith("dedup: error:"):
        assert "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


@contextlib.contextmanager
def inside(directory: Path):
    old = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(old)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (links not followed), by path relative to it."""
    files = {}
    for top, _directories, names in os.walk(root):
        for name in names:
            path = Path(top) / name
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


TEXT_A = b"It rained.It poured. The river rose over the banks.\n"
TEXT_B = b"Sun shone.Birds sang. Children played in the park all day.\n"
JSONL = b'{"id": 1, "text": "It rained.It poured."}\n{"id": "1", "text": "Sun shone.Birds sang."}\n'


def make_layout(root: Path, links: list[str]) -> None:
    for path, data in {"a.txt": TEXT_A, "b.txt": TEXT_B, "d1/a.txt": TEXT_B, "d1/sub/c.txt": TEXT_A,
                       "d1/sub/a.txt": TEXT_A + TEXT_B, "d2/a.txt": TEXT_A, "d2/b.txt": TEXT_A,
                       "other/keep.txt": TEXT_B, "j/a.jsonl": JSONL, "k/a.jsonl": JSONL,
                       "k/b.jsonl": JSONL}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "out").mkdir()
    for link in links:
        if link == "hard":
            os.link(root / "a.txt", root / "hard.txt")
        elif link == "stale":
            (root / "out" / "stale.txt").write_bytes(b"from an earlier run\n")
        elif link == "existing":
            if not os.path.lexists(root / "out" / "a.txt"):
                (root / "out" / "a.txt").write_bytes(b"an earlier output\n")
        else:
            name, target = link.split("->")
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            if not os.path.lexists(root / name):
                os.symlink(target, root / name)


LINKS = ["d3->d1", "lnk.txt->a.txt", "out/link->../d1", "out/other->../other", "out/a.txt->../a.txt",
         "out/sub->../d1/sub", "d1/sub/up->..", "hard", "stale", "existing"]
INPUTS = ["a.txt", "b.txt", "./a.txt", "d1/../b.txt", "d1", "d1/", "d1/a.txt", "d1/sub", "d2", "d3", "d3/",
          "lnk.txt", "hard.txt", "other", "-", "j", "k", "j/a.jsonl", "k/a.jsonl", "k/"]
OUTPUTS = ["", ".", "./", "out", "out/", "out/a.txt", "out/link/", "out/link/a.txt", "out/other/",
           "out/sub/", "a.txt", "hard.txt", "lnk.txt", "d1", "d1/", "d1/new/", "d1/sub/c.txt", "d3/",
           "d3/x.txt", "new/", "new.txt", "new/deeper/", "other/", "-", "new/", "new2/x/", "n.txt",
           "/dev/null", "k/", "j/a.jsonl", "n.jsonl"]
REPORTS = [None, None, "r.json", "a.txt", "hard.txt", "d1/r.json", "out/r.jsonl", "out/a.txt", "new.txt",
           "out/link/r.json", "out/sub/r.json", "", None, None, None, "/dev/null",
           "k/a.jsonl"]


@POSIX
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.lists(st.sampled_from(LINKS), unique=True, max_size=4),
       inputs=st.lists(st.sampled_from(INPUTS), min_size=1, max_size=2),
       output=st.sampled_from(OUTPUTS), report=st.sampled_from(REPORTS), force=st.booleans())
def test_no_input_byte_ever_changes(tmp_path, links, inputs, output, report, force):
    """Whatever the layout: no input changes, nothing outside the output (and report) changes, a
    failure writes nothing, and no run ends in a traceback."""
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    make_layout(root, links)
    before = snapshot(root)
    args = [*inputs, "-o", output, "--jobs", "1"] + (["--report", report] if report is not None else [])
    args += ["--force"] if force else []
    with inside(root):
        result = clean(*args, input=TEXT_A.decode() * 2)
        # The files the inputs name, through any link: they must never change.
        protected = set()
        for given_path in inputs:
            if given_path == "-" or not os.path.exists(given_path):
                continue
            if os.path.isdir(given_path):
                for top, _, names in os.walk(given_path):
                    protected.update(os.path.realpath(os.path.join(top, n)) for n in names)
            else:
                protected.add(os.path.realpath(given_path))
        allowed = set()
        if result.exit_code == 0:
            for target in (output, report):
                if target in (None, "-", ""):
                    continue
                allowed.add(os.path.normpath(os.path.abspath(target)))
                allowed.add(os.path.realpath(target))
    after = snapshot(root)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.stderr)
    for relative, data in before.items():
        path = str(root / relative)
        if os.path.realpath(path) in protected:
            assert after.get(relative) == data, (args, relative, result.stderr)
    from hypothesis import event

    event(f"exit {result.exit_code}")
    if result.exit_code != 0:
        event(result.stderr.split(":")[-1].strip()[:40] if result.stderr else "usage")
        refused(result)
        assert after == before, (args, result.stderr)
        return
    def under_output(relative: str) -> bool:
        path = os.path.normpath(str(root / relative))
        return any(path == a or path.startswith(a + os.sep) for a in allowed)
    for relative, data in before.items():
        if not under_output(relative):
            assert after.get(relative) == data, (args, relative, "changed outside the outputs")
    for relative in set(after) - set(before):
        assert under_output(relative), (args, relative, "written outside the outputs")


# --------------------------------------------------------------------------- the issue's cases


@POSIX
@pytest.mark.parametrize("inputs, output, needle", [
    (["a.txt", "b.txt"], "./", "holds the input a.txt"),
    (["d1/a.txt"], "d1/", "holds the input d1/a.txt"),
    (["a.txt"], "", "-o is empty"),
    (["d1"], "./", "holds the input d1"),
    (["d1/sub"], "d1/", "holds the input d1/sub"),
    (["d1/a.txt", "d2/a.txt"], "new/", "d1/a.txt and d2/a.txt"),
    (["d1", "d2"], "new/", "d1/a.txt and d2/a.txt"),
    (["-", "stdin.txt"], "new/", "stdin and stdin.txt"),
    (["a.txt"], "hard.txt", "is the input a.txt"),
    (["a.txt"], "lnk.txt", "is the input a.txt"),
    (["d2"], "out/", "is a symbolic link inside the output directory"),
])
def test_issue_layouts_are_refused_with_both_paths(tmp_path, inputs, output, needle):
    make_layout(tmp_path, ["hard", "lnk.txt->a.txt", "out/a.txt->../d1/a.txt"])
    (tmp_path / "stdin.txt").write_bytes(TEXT_B)
    before = snapshot(tmp_path)
    with inside(tmp_path):
        refused(clean(*inputs, "-o", output, "--force", "--jobs", 1, input="Some text.Here."), needle)
    assert snapshot(tmp_path) == before


@POSIX
def test_two_shards_with_one_name_are_refused(tmp_path):
    for part in ("x", "y"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "s.jsonl").write_text(json.dumps({"text": f"Shard {part} text."}) + "\n")
    with inside(tmp_path):
        refused(clean("x/s.jsonl", "y/s.jsonl", "-o", "out/", "--jobs", 1), "x/s.jsonl and y/s.jsonl")
    assert not (tmp_path / "out").exists()


@POSIX
def test_device_is_streamed_into_never_replaced(tmp_path):
    source = tmp_path / "a.txt"
    source.write_bytes(TEXT_A)
    for args in (["-o", "/dev/null", "--force"], ["-o", tmp_path / "o.txt", "--report", "/dev/null", "--force"],
                 ["-o", "/dev/null"]):
        result = clean(source, *args)
        assert result.exit_code == 0, result.stderr
    assert Path("/dev/null").is_char_device()


@POSIX
def test_fifo_is_streamed_into(tmp_path):
    source, fifo = tmp_path / "a.txt", tmp_path / "pipe"
    source.write_bytes(TEXT_A)
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, "-m", "dedup", "clean", str(source), "-o", str(fifo)],
                               stderr=subprocess.PIPE, env=env)
    with open(fifo, "rb") as reader:
        data = reader.read()
    process.wait(timeout=60)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert data == b"It rained. It poured. The river rose over the banks.\n"
    assert fifo.is_fifo()


@POSIX
def test_socket_is_never_replaced(tmp_path):
    import socket

    source = tmp_path / "a.txt"
    source.write_bytes(TEXT_A)
    server = socket.socket(socket.AF_UNIX)
    path = tmp_path / "sock"
    try:
        server.bind(str(path))
        refused(clean(source, "-o", path, "--force"), "socket", "never replaces")
    finally:
        server.close()


def test_existing_files_in_output_directory_need_force_and_stale_ones_are_listed(tmp_path):
    corpus, out = tmp_path / "in", tmp_path / "out"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(TEXT_A)
    (corpus / "b.txt").write_bytes(TEXT_B)
    out.mkdir()
    (out / "a.txt").write_bytes(b"precious\n")
    refused(clean(corpus, "-o", out, "--jobs", 1), "a.txt", "already exists", "--force")
    assert (out / "a.txt").read_bytes() == b"precious\n"
    (out / "a.txt").unlink()
    (out / "old.txt").write_bytes(b"from an earlier run\n")
    refused(clean(corpus, "-o", out, "--jobs", 1), "old.txt", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    report = tmp_path / "r.json"
    result = clean(corpus, "-o", out, "--jobs", 1, "--force", "--report", report)
    assert result.exit_code == 0, result.stderr
    assert "old.txt" in result.stderr and "not written by this run" in result.stderr
    assert json.loads(report.read_text())["summary"]["stale_files"] == [str(out / "old.txt")]
    assert (out / "old.txt").read_bytes() == b"from an earlier run\n"


def test_leftover_temporary_files_are_never_read_as_documents(tmp_path):
    """A killed run's ``.part`` files in an output directory: not documents of a later run reading
    it, not stale files, and removed when a run writes there again."""
    corpus, out = tmp_path / "in", tmp_path / "out"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(TEXT_A)
    out.mkdir()
    leftover = out / ".a.txt.0123456789ab.part"
    leftover.write_bytes(b"half a document")
    result = clean(out, "-o", tmp_path / "again", "--jobs", 1)
    refused(result, "no input documents")
    result = clean(corpus, "-o", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]


@POSIX
def test_second_run_on_one_output_is_refused(tmp_path):
    """A run holds a lock beside its output; a second run writing there is refused with one line."""
    import fcntl

    source, out = tmp_path / "a.txt", tmp_path / "o.txt"
    source.write_bytes(TEXT_A)
    lock = tmp_path / ".o.txt.dedup-lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as a run in progress holds it
        refused(clean(source, "-o", out), "another dedup run is writing it")
        assert not out.exists()
    lock.unlink()
    assert clean(source, "-o", out).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "o.txt"]


def test_planned_paths_through_a_subprocess(tmp_path):
    """The installed command refuses the same way (one line, exit 1) and leaves the input alone."""
    (tmp_path / "a.txt").write_bytes(TEXT_A)
    (tmp_path / "b.txt").write_bytes(TEXT_B)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "dedup", "clean", "a.txt", "b.txt", "-o", "./"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "holds the input" in done.stderr
    assert (tmp_path / "a.txt").read_bytes() == TEXT_A


@POSIX
def test_temporary_directory_inside_an_input_or_the_output_is_refused(tmp_path):
    """The run's temporary files (document text) never land where input discovery finds them."""
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(TEXT_A)
    (corpus / "b.txt").write_bytes(TEXT_B)
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    for temp, needle in ((corpus, "inside input directory"), (tmp_path / "out", "inside the output directory")):
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), TMPDIR=str(temp))
        done = subprocess.run([sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(tmp_path / "out")],
                              capture_output=True, text=True, env=env)
        assert done.returncode == 1 and needle in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert snapshot(tmp_path) == before  # (the temporary directories are under tmp_path too)
    assert sorted(p.name for p in corpus.iterdir()) == ["a.txt", "b.txt"]


@POSIX
@pytest.mark.parametrize("command", [
    "clean a.txt >> a.txt",                      # stdout appends to the input
    "clean a.txt 1<>a.txt",                      # stdout opened read-write on the input
    "clean < a.txt >> a.txt",                    # stdin and stdout are one file
    "clean -o a.txt --force < a.txt",            # -o is the file read on stdin
    "clean --report a.txt -o /dev/null --force < a.txt",
    "clean --report - -o out.txt a.txt >> a.txt",  # the report on stdout, into the input
    "diff a.txt >> a.txt",
    "inspect r.json >> r.json",
])
def test_stdin_and_stdout_files_are_inputs_too(tmp_path, command):
    # Red team: a shell redirection makes stdin or stdout a file; when that file is an input,
    # the run is refused before anything is written, even with --force.
    (tmp_path / "a.txt").write_bytes((ROOT / "corpora" / "harbor-fire.txt").read_bytes())
    subprocess.run([sys.executable, "-m", "dedup", "clean", "a.txt", "--report", "r.json", "-o", "clean.txt"],
                   cwd=tmp_path, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    before = snapshot(tmp_path)
    done = subprocess.run(f"{sys.executable} -m dedup {command}", shell=True, cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode in (1, 2), (done.returncode, done.stderr)
    assert done.stderr.startswith("dedup: error:") and done.stderr.count("\n") == 1, done.stderr
    assert "never overwrites its input" in done.stderr, done.stderr
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "out.txt"} == before


@POSIX
def test_stdin_and_stdout_files_that_are_not_inputs_are_fine(tmp_path):
    (tmp_path / "a.txt").write_bytes((ROOT / "corpora" / "harbor-fire.txt").read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command in ("clean a.txt > b.txt", "clean < a.txt > c.txt", "clean - -o d.txt < a.txt",
                    "clean -o /dev/null < /dev/null || true"):
        subprocess.run(f"{sys.executable} -m dedup {command}", shell=True, cwd=tmp_path, check=True, env=env)
    assert (tmp_path / "b.txt").read_bytes() == (tmp_path / "c.txt").read_bytes() == (tmp_path / "d.txt").read_bytes()
    assert (tmp_path / "b.txt").stat().st_size > 1000


@pytest.mark.parametrize("option", ["--removed", "--summary-json", "--report"])
def test_a_refusal_names_the_option_that_would_overwrite(tmp_path, option):
    # Red team F10: "--removed a.txt" was refused with "choose another -o".
    (tmp_path / "a.txt").write_bytes((ROOT / "corpora" / "harbor-fire.txt").read_bytes())
    with inside(tmp_path):
        message = refused(clean("a.txt", "-o", "out.txt", "--force", option, "a.txt"), "never overwrites its input")
    assert message.endswith(f"(choose another {option})"), message
    assert (tmp_path / "a.txt").read_bytes() == (ROOT / "corpora" / "harbor-fire.txt").read_bytes()
