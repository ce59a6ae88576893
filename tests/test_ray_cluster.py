"""``--engine ray`` against a cluster started the way users start one: ``ray start --head``.

The cluster's workers run in the directory ``ray start`` ran in, not the user's: relative input
and output paths must reach them made absolute by the driver (issue 19). The cluster is started
here with one CPU on free ports of the loopback address and its own temporary directory, and stopped afterwards
(SIGTERM to ``ray start --block``, which stops what it started; any process of it still alive
then is killed by its id). Skipped, with the reason, when Ray or its ``ray`` command is missing
or the cluster does not start.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def processes_under(marker: str) -> list[int]:
    """Ids of the processes whose command line names ``marker`` (this cluster's own directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


@pytest.fixture
def ray_cluster():
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'dedup-text[ray]' to run")
    command = shutil.which("ray")
    if command is None:
        pytest.skip("the ray command is not on PATH")
    # Short: Ray puts unix sockets under it, whose paths have a length limit.
    state = tempfile.mkdtemp(prefix="dray", dir="/tmp")
    elsewhere = tempfile.mkdtemp(prefix="dray-cwd", dir="/tmp")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("RAY_ADDRESS", None)
    log = Path(state) / "start.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, "start", "--head", "--block", "--num-cpus", "1", "--port", str(port),
             "--node-ip-address", "127.0.0.1",
             "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", state],
            cwd=elsewhere, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.skip("ray start --head did not start: " + log.read_text(errors="replace")[-300:])
            time.sleep(0.5)
        driver = {**env, "RAY_ADDRESS": f"127.0.0.1:{port}"}
        if "RAY_AUTH_MODE" not in env and (Path.home() / ".ray" / "auth_token").exists():
            # ray start turns token authentication on when a token exists; a driver given an
            # explicit address must then ask for it (as a user does, see the README).
            driver["RAY_AUTH_MODE"] = "token"
        yield driver
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in processes_under(state):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(elsewhere, ignore_errors=True)


def write_shards(directory: Path) -> None:
    directory.mkdir()
    for shard in range(2):
        lines = [json.dumps({"id": f"{shard}-{i}", "text": (
            f"Story {shard}-{i}. The council of town {i} met on Monday to discuss the drains, the roads and the "
            f"budget.It voted {i + 2} times.")}) for i in range(4)]
        lines.append(json.dumps({"id": f"{shard}-copy", "text": json.loads(lines[0])["text"]}))
        (directory / f"s{shard}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_relative_paths_reach_the_workers_of_a_started_cluster(ray_cluster, tmp_path):
    write_shards(tmp_path / "shards")
    clean = [sys.executable, "-m", "dedup", "clean", "shards"]
    result = subprocess.run([*clean, "-o", "out/", "--report", "report.jsonl", "--engine", "ray", "--ray-address",
                             "auto"], cwd=tmp_path, env=ray_cluster, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    local = subprocess.run([*clean, "-o", "local/", "--report", "local.jsonl"], cwd=tmp_path,
                           env={k: v for k, v in ray_cluster.items() if k != "RAY_ADDRESS"},
                           capture_output=True, text=True, timeout=300, check=False)
    assert local.returncode == 0, local.stderr
    for name in ("s0.jsonl", "s1.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()

    def entries(path: Path) -> list[dict]:
        return [record for record in map(json.loads, path.read_text(encoding="utf-8").splitlines())
                if record["type"] in ("change", "flag", "document")]

    ray_entries = entries(tmp_path / "report.jsonl")
    assert ray_entries == entries(tmp_path / "local.jsonl")
    assert {"id": "0-copy", "duplicate_of": "0-0"}.items() <= next(
        r for r in ray_entries if r["type"] == "document").items()  # the names recorded are as given
