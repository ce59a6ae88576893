"""Run a command in a fresh process and measure it: wall time, CPU time, peak RSS.

Peak RSS is reported two ways:

- ``peak_rss_kb``: the largest resident set of any single process of the run: the largest
  ``VmHWM`` (high-water mark) of the child and its descendants, sampled from ``/proc`` every
  20 ms. (Not ``os.wait4``'s ``ru_maxrss``: Linux carries a process's high-water mark across
  fork and exec, so a child of a benchmark holding 150 MB reported at least 150 MB, even for
  ``--help``. It is the fallback only for a run too short to sample.)
- ``peak_tree_rss_kb``: the largest *sum* of resident sets over the child and all its
  descendants, sampled from ``/proc`` every 20 ms. This is what a machine must hold for a
  multi-process run; it can miss a spike shorter than the sampling interval.

In-process stage workers (``scripts/bench.py --worker``) report their own numbers on stdout:
RSS after loading the corpus, and the peak during the stage alone (``VmHWM`` reset through
``/proc/self/clear_refs`` just before the stage starts).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunResult:
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_kb: int
    peak_tree_rss_kb: int
    stdout: str
    stderr: str
    extra: dict = field(default_factory=dict)


def tree_env(repo: Path) -> dict:
    """The environment to run ``python -m dedup`` of the tree ``repo`` in (with ``cwd=repo``:
    ``python -m`` puts the working directory first on the path): ``repo`` first on
    ``PYTHONPATH``, and its bytecode cached, as an installed package has it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: ppid follows the last ')'
        fields_after = stat[stat.rfind(b")") + 2:].split()
        if len(fields_after) > 1:
            children.setdefault(int(fields_after[1]), []).append(int(entry))
    return children


def _rss_kb(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM of a process, in kB (0 when it is gone)."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def _children_of(pid: int) -> list[int] | None:
    """Child processes of ``pid`` from ``/proc/PID/task/*/children`` (None where the kernel has no
    such file). Reading a few small files keeps the sampler cheap: scanning every process in
    ``/proc`` every 20 ms took ~4% of a core, taken from a run that keeps every core busy."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                children += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread ended
            return None
        except OSError:
            continue
    return children


def tree_rss_kb(root: int) -> tuple[int, int]:
    """Sum of VmRSS over ``root`` and all its descendants, now, and the largest VmHWM of one."""
    children_map: dict[int, list[int]] | None = None
    total, largest, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        rss, hwm = _rss_kb(pid)
        total += rss
        largest = max(largest, hwm)
        children = _children_of(pid)
        if children is None:  # no children files: one scan of /proc
            if children_map is None:
                children_map = _children_map()
            children = children_map.get(pid, [])
        stack.extend(children)
    return total, largest


def run(cmd: list[str], *, cwd: str | Path | None = None, env: dict | None = None,
        timeout: float | None = None, sample_tree: bool = True) -> RunResult:
    """Run ``cmd`` to completion; stdout and stderr are captured (into temp files, so a chatty
    child never blocks)."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak_tree = peak_one = 0
        stop = threading.Event()

        def sampler() -> None:
            nonlocal peak_tree, peak_one
            while not stop.is_set():
                tree, one = tree_rss_kb(proc.pid)
                peak_tree, peak_one = max(peak_tree, tree), max(peak_one, one)
                stop.wait(0.02)

        thread = threading.Thread(target=sampler, daemon=True) if sample_tree else None
        if thread:
            thread.start()
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        stop.set()
        if thread:
            thread.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return RunResult(
            returncode=proc.returncode,
            wall_s=wall,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            peak_rss_kb=peak_one or usage.ru_maxrss,
            peak_tree_rss_kb=max(peak_tree, peak_one) or usage.ru_maxrss,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def speedup_ceiling(fixed: float, alone: float, together: float, workers: int) -> float:
    """The most ``workers`` processes could gain over one (Amdahl), from three wall times: a run
    on one document (``fixed``: the interpreter, the imports, setting up, writing), one ``--jobs 1``
    run alone, and each of ``workers`` such runs started at once (``together``: how much running
    side by side slows each process on this machine). The rest of a run divides at best over the
    workers, each slowed as the runs side by side were."""
    return alone / (fixed + (alone - fixed) * (together / alone) / workers)


# --- in-process helpers, used inside worker processes -------------------------------------------

def proc_status_kb(key: str) -> int:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``), or 0."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux >= 4.0). False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
