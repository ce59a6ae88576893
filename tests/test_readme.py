"""The README's walkthrough runs as shown.

Every fenced block preceded by ``<!-- runnable -->`` runs, in order, in one temporary directory
holding a copy of ``corpora/``: a ``console`` block's ``$ `` lines through ``bash`` (``dedup`` and
``python`` are this interpreter), their output (stdout and stderr together) compared with the
lines shown, where a line ``...`` stands for any number of lines; a ``pycon`` block as a doctest,
all blocks sharing one namespace. No network.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARK = "<!-- runnable -->"


def runnable_blocks(text: str) -> list[tuple[str, str, int]]:
    """``(language, body, line number)`` of every block marked runnable."""
    blocks = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        fence = lines[number + 1]
        assert fence.startswith("```"), f"README.md:{number + 1}: {MARK} must be followed by a fenced block"
        language = fence[3:].strip()
        end = lines.index("```", number + 2)
        blocks.append((language, "\n".join(lines[number + 2:end]), number + 2))
    return blocks


def commands(body: str) -> list[tuple[str, list[str]]]:
    """The ``$ `` commands of a console block, each with the lines shown after it."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line)
    return steps


def matches(shown: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``shown`` with each ``...`` line standing for any lines."""
    pattern = "\n".join(".*" if line == "..." else re.escape(line) for line in shown)
    return re.fullmatch(pattern, "\n".join(actual), flags=re.DOTALL) is not None


@pytest.fixture
def workdir(tmp_path):
    shutil.copytree(ROOT / "corpora", tmp_path / "corpora")
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    for name, target in (("dedup", f'"{sys.executable}" -m dedup'), ("python", f'"{sys.executable}"')):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec {target} "$@"\n', encoding="utf-8")
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    for name in [key for key in env if key.startswith("DEDUP_")]:
        del env[name]
    return tmp_path, env


def test_readme_marks_runnable_blocks_of_each_role():
    languages = [language for language, _, _ in runnable_blocks(README.read_text(encoding="utf-8"))]
    assert languages.count("console") >= 5 and languages.count("pycon") >= 2


def test_readme_set_up_commands_come_first():
    text = README.read_text(encoding="utf-8")
    first = text.index("```")
    setup = "```\npip install . && dedup clean corpora/harbor-fire.txt --report changes.json -v\n```"
    assert text[first:].startswith(setup)
    assert "```\npip install '.[test]' && pytest\n```" in text[: text.index("## ")]


def test_readme_walkthrough_runs_as_shown(workdir, monkeypatch):
    pytest.importorskip("pyarrow")
    directory, env = workdir
    monkeypatch.chdir(directory)
    namespace: dict[str, object] = {}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for language, body, line in runnable_blocks(README.read_text(encoding="utf-8")):
        if language == "pycon":
            test = doctest.DocTestParser().get_doctest(body, namespace, f"README.md:{line}", "README.md", line)
            failures = runner.run(test, clear_globs=False).failed
            assert not failures, f"README.md:{line}: the Python block does not print what it shows"
            namespace = test.globs
            continue
        assert language == "console", f"README.md:{line}: runnable blocks are console or pycon, not {language!r}"
        for command, shown in commands(body):
            result = subprocess.run(["bash", "-c", command], cwd=directory, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
            actual = result.stdout.splitlines()
            assert matches(shown, actual), (
                f"README.md:{line}: $ {command}\n--- shown\n" + "\n".join(shown) + "\n--- printed\n" + result.stdout
            )
