"""What importing dedup's stages does to the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_punkt_loads_without_importing_all_of_nltk():
    """The segmenter imports Punkt's few modules, not nltk's package (a quarter of a second at
    every start), and leaves no trace of them: a later ``import nltk`` is the whole package."""
    code = (
        "import sys\n"
        "from dedup.segment import get_segmenter\n"
        "seg = get_segmenter(())\n"
        "text = 'Smoke rose on Sept. 25, 2023. The border is 22 miles away.'\n"
        "print(len(seg.sentences(text, 0, len(text))))\n"
        "print(sorted(m for m in sys.modules if m == 'nltk' or m.startswith(('nltk.', 'scipy'))))\n"
        "import nltk.tokenize.punkt\n"
        "from nltk.metrics import BigramAssocMeasures\n"
        "print(nltk.tokenize.punkt.PunktSentenceTokenizer().tokenize('Hi there. Yes.'))\n"
        "print(round(BigramAssocMeasures.fisher(1, (2, 3), 10), 6))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == ["2", "[]", "['Hi there.', 'Yes.']", "0.933333"]


def test_punkt_from_an_imported_nltk_is_that_module():
    code = (
        "import nltk.tokenize.punkt\n"
        "from dedup.segment import _punkt\n"
        "print(_punkt() is nltk.tokenize.punkt)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_document_mode_imports_neither_nltk_nor_datasketch(tmp_path):
    """Document-only runs start without loading the sentence models or datasketch (and scipy)."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "one two three four five six"}\n', encoding="utf-8")
    code = (
        "import sys\n"
        "from dedup.cli import main\n"
        f"main(['clean', {str(source)!r}, '-o', {str(tmp_path / 'out.jsonl')!r}, '--mode', 'documents',"
        " '--jobs', '1'], standalone_mode=False)\n"
        "print(sorted(m for m in ('nltk', 'datasketch', 'scipy', 'ftfy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("preset", [None, "4"])
def test_the_command_keeps_openblas_to_one_thread_unless_told(tmp_path, preset):
    """dedup does no linear algebra: the command starts numpy with one OpenBLAS thread (its
    threads would only spin), unless the user set OPENBLAS_NUM_THREADS."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "one two three four five six"}\n', encoding="utf-8")
    code = (
        "import os, sys\n"
        "from dedup.cli import main\n"
        f"main(['clean', {str(source)!r}, '-o', {str(tmp_path / 'out.jsonl')!r}, '--mode', 'documents',"
        " '--jobs', '1'], standalone_mode=False)\n"
        "print('numpy' in sys.modules, os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"True {preset or 1}"
