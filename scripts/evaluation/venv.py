"""The evaluation-only virtualenv that holds the baseline tools (never dedup's dependencies)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

# Pinned so that baseline numbers are reproducible; none of these is a dependency of dedup.
EVAL_REQUIREMENTS: tuple[str, ...] = (
    "pysbd==0.3.4",
    "datatrove==0.10.1",
    "spacy==3.8.7",  # datatrove's English word tokenizer (spacy.blank("en"), no model download)
    "tokenizers==0.23.3",  # imported by datatrove's pipeline modules
    "rapidfuzz==3.14.6",
)
MARKER_ENV = "DEDUP_EVAL_IN_VENV"


def venv_python(cache: Path) -> Path:
    """Path of the evaluation venv's interpreter."""
    return cache / "venv" / "bin" / "python"


def ensure_venv(cache: Path, log: object = print) -> Path:
    """Create ``cache/venv`` (with system site-packages) and install the baselines once.

    Args:
        cache: the evaluation cache root.
        log: a print-like callable for progress.

    Returns:
        The venv's interpreter.

    Raises:
        RuntimeError: pip could not install the baselines; its last lines are in the message.
    """
    python = venv_python(cache)
    stamp = cache / "venv" / "requirements.txt"
    wanted = "\n".join(EVAL_REQUIREMENTS) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    root = python.parent.parent
    log(f"creating evaluation venv in {root}: " + ", ".join(EVAL_REQUIREMENTS))  # type: ignore[operator]
    venv.EnvBuilder(system_site_packages=True, with_pip=True, clear=False).create(root)
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           *EVAL_REQUIREMENTS], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"installing the evaluation baselines failed:\n{tail}")
    stamp.write_text(wanted, encoding="utf-8")
    return python


def reexec_in_venv(cache: Path, script: Path, argv: list[str], log: object = print) -> None:
    """Replace this process with the same command run by the evaluation venv's interpreter.

    Does nothing when already inside it (the marker variable is set).
    """
    if os.environ.get(MARKER_ENV) == "1":
        return
    python = ensure_venv(cache, log)
    env = dict(os.environ, **{MARKER_ENV: "1"})
    sys.stdout.flush()
    os.execve(str(python), [str(python), str(script), *argv], env)
