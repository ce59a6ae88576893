"""Benchmark-only virtualenvs for the peer tools (text-dedup, datatrove).

Each peer gets its own virtualenv under the benchmark cache, created on first use with the
ordinary ``venv`` + ``pip`` from PyPI. They are never dedup dependencies: nothing outside
``scripts/`` refers to them. Two envs, not one, because text-dedup 0.4.0 pins ``urllib3<=2.0``
while datatrove's extras pull a newer one.

text-dedup 0.4.1 (the version the issue's anchor figures used) requires Python >= 3.12 (it uses
``type X = ...`` statements); with only an older interpreter on the machine, 0.4.0 (Python >= 3.10,
same MinHash code path and CLI) is installed instead, and the report says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchkit.corpus import cache_dir

TEXT_DEDUP_NEW = "0.4.1"
TEXT_DEDUP_OLD = "0.4.0"
DATATROVE = "0.10.1"


@dataclass(frozen=True)
class Peer:
    name: str
    venv: Path
    requirements: tuple[str, ...]
    python: str
    version: str
    note: str = ""

    @property
    def bin_python(self) -> Path:
        return self.venv / "bin" / "python"


def _works(exe: str, minimum: tuple[int, int]) -> bool:
    probe = f"import sys, venv; sys.exit(0 if sys.version_info[:2] >= {minimum!r} else 1)"
    try:
        return subprocess.run([exe, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _newest_python(minimum: tuple[int, int]) -> str | None:
    """An interpreter >= ``minimum``: ``$DEDUP_BENCH_PEER_PYTHON``, this one, ``python3.X`` on PATH,
    or a pyenv-installed version (pyenv shims on PATH may not be activated)."""
    candidates = [os.environ.get("DEDUP_BENCH_PEER_PYTHON", ""), sys.executable]
    for minor in (12, 13, 14):
        candidates.append(shutil.which(f"python3.{minor}") or "")
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        for version in sorted(pyenv.iterdir()):
            candidates.extend(str(p) for p in sorted(version.glob("bin/python3.1[2-9]")))
    for exe in candidates:
        if exe and _works(exe, minimum):
            return exe
    return None


def text_dedup_peer() -> Peer:
    py312 = _newest_python((3, 12))
    if py312:
        return Peer("text-dedup", cache_dir() / "venv-text-dedup", (f"text-dedup=={TEXT_DEDUP_NEW}",),
                    py312, TEXT_DEDUP_NEW)
    return Peer("text-dedup", cache_dir() / "venv-text-dedup", (f"text-dedup=={TEXT_DEDUP_OLD}",),
                sys.executable, TEXT_DEDUP_OLD,
                note=f"text-dedup {TEXT_DEDUP_NEW} needs Python >= 3.12 (not on this machine); "
                     f"ran {TEXT_DEDUP_OLD}")


def datatrove_peer() -> Peer:
    # [io] for the JSONL reader/writer, [processing] because datatrove.pipeline.dedup imports
    # the tokenizers package; spacy for its English word tokenizer (spacy.blank("en"), no model).
    return Peer("datatrove", cache_dir() / "venv-datatrove",
                (f"datatrove[io,processing]=={DATATROVE}", "spacy>=3.8,<4"), sys.executable, DATATROVE)


def ensure(peer: Peer, log=sys.stderr) -> Peer:
    """Create the peer's venv and install its requirements unless already done."""
    marker = peer.venv / ".installed"
    wanted = "\n".join(peer.requirements)
    if marker.exists() and marker.read_text() == wanted and peer.bin_python.exists():
        return peer
    print(f"setting up {peer.venv} ({', '.join(peer.requirements)}) ...", file=log, flush=True)
    if not peer.bin_python.exists():
        subprocess.run([peer.python, "-m", "venv", str(peer.venv)], check=True)
    pip = [str(peer.bin_python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    result = subprocess.run(pip + list(peer.requirements), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(peer.requirements)} failed:\n{result.stderr[-2000:]}")
    marker.write_text(wanted)
    return peer
