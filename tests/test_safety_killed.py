"""Killed and changing runs (issue 15, classes 2 and 3): workers die with the run, temporary
files never outlive it or land where input discovery finds them, and an input that changes
between the passes is one error line with nothing written. docs/reliability.md lists these tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main
from dedup.lifecycle import InputIdentity, private_tempdir, sweep_abandoned

ROOT = Path(__file__).resolve().parent.parent
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")


def _corpus(directory: Path, files: int = 80) -> None:
    import random

    rng = random.Random(7)
    words = "the blast was heard across town and residents fled north while officials said more".split()
    directory.mkdir()
    for i in range(files):
        paragraphs = (" ".join(rng.choice(words) for _ in range(40)) + "." for _ in range(300))
        (directory / f"f{i:03d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@LINUX
def test_sigkill_of_the_run_kills_its_workers_and_the_next_run_cleans_up(tmp_path):
    corpus, out, temp = tmp_path / "big", tmp_path / "out", tmp_path / "tmp"
    _corpus(corpus)
    temp.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), TMPDIR=str(temp))
    process = subprocess.Popen([sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(out) + "/",
                                "--jobs", "2"], stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and process.poll() is None:
        workers = _children(process.pid)
        if len(workers) >= 2 and out.is_dir() and any(out.iterdir()):
            break
        time.sleep(0.02)
    if process.poll() is not None:
        pytest.skip("the run finished before it could be killed")
    process.kill()
    process.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "workers outlived the killed run"
    # The killed run's temporary directory is swept by the next run; its .part files are never
    # documents and are removed under the next run's lock.
    assert [p.name for p in temp.iterdir() if p.name.startswith(f"dedup-{process.pid}-")]
    result = subprocess.run([sys.executable, "-m", "dedup", "clean", str(out), "-o", str(tmp_path / "again") + "/",
                             "--jobs", "1", "--report", str(tmp_path / "r.json")], capture_output=True, text=True,
                            env=env)
    if result.returncode == 0:
        ids = [d["id"] for d in json.loads((tmp_path / "r.json").read_text())["documents"]]
        assert not any(i.endswith(".part") for i in ids)
    assert not [p for p in temp.iterdir() if p.name.startswith(f"dedup-{process.pid}-")]
    rerun = subprocess.run([sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(out) + "/",
                            "--jobs", "1", "--force", "--mode", "documents"], capture_output=True, text=True, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(out.rglob("*.part")) and not list(tmp_path.glob(".*dedup-lock"))
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in corpus.iterdir())


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_removes_the_temporary_directory(tmp_path):
    corpus, temp = tmp_path / "big", tmp_path / "tmp"
    _corpus(corpus, 60)
    temp.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), TMPDIR=str(temp))
    process = subprocess.Popen([sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(tmp_path / "o") + "/",
                                "--jobs", "2"], stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and not any(temp.iterdir()):
        time.sleep(0.02)
    seen = [(p.name, p.stat().st_mode & 0o777) for p in temp.iterdir()]
    time.sleep(0.5)
    if process.poll() is not None:
        pytest.skip("the run finished before it could be interrupted")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert seen and all(mode == 0o700 for _, mode in seen), seen
    assert list(temp.iterdir()) == []


def test_private_tempdir_and_sweep(tmp_path):
    with private_tempdir(str(tmp_path)) as path:
        assert os.stat(path).st_mode & 0o777 == 0o700
        assert sweep_abandoned(str(tmp_path)) == []  # this run is alive
    assert not os.path.exists(path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f"dedup-{int(dead.stdout)}-abc123"
    abandoned.mkdir()
    (abandoned / "segments").write_text("document text")
    (tmp_path / "dedup-notours").mkdir()
    assert sweep_abandoned(str(tmp_path)) == [str(abandoned)]
    assert (tmp_path / "dedup-notours").exists()


def test_input_changed_between_the_passes_writes_nothing(tmp_path, monkeypatch):
    """The plan between the passes is where a concurrent writer strikes: pass 2 then refuses."""
    import dedup.corpus.stages

    corpus, out, report = tmp_path / "in", tmp_path / "out", tmp_path / "r.json"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"s{i}.jsonl").write_text(json.dumps({"text": f"Shard {i} says hello.Twice."}) + "\n")
    original = dedup.corpus.stages.plan_corpus

    def plan_then_append(*args, **kwargs):
        with open(corpus / "s1.jsonl", "a") as handle:
            handle.write(json.dumps({"text": "A late record."}) + "\n")
        return original(*args, **kwargs)

    monkeypatch.setattr(dedup.corpus.stages, "plan_corpus", plan_then_append)
    result = CliRunner().invoke(main, ["clean", str(corpus), "-o", str(out), "--report", str(report), "--jobs", "1"])
    assert result.exit_code == 1, (result.stderr, result.exception)
    message = result.stderr.strip()
    assert message.startswith("dedup: error:") and "\n" not in message
    assert "s1.jsonl: changed while dedup was reading it" in message and "nothing was written" in message
    assert not report.exists() and (not out.exists() or not any(out.iterdir()))


def test_input_identity_names_what_changed(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("one")
    seen = InputIdentity.of([str(path), "-"])
    seen.check()
    path.unlink()
    path.write_text("one")
    with pytest.raises(Exception, match="replaced by another file|modified"):
        seen.check()


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_two_concurrent_runs_on_one_output_never_both_succeed(tmp_path):
    corpus, out = tmp_path / "big", tmp_path / "out"
    _corpus(corpus, 40)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(out) + "/", "--jobs", "1", "--force"]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    lock = tmp_path / ".out.dedup-lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None and not lock.exists():
        time.sleep(0.01)
    if first.poll() is not None:
        pytest.skip("the first run finished before the second started")
    second = subprocess.run(command, capture_output=True, text=True, env=env)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 1, second.stderr
    assert "another dedup run is writing it" in second.stderr and second.stderr.count("\n") == 1
    assert not lock.exists() and not list(out.rglob("*.part"))
