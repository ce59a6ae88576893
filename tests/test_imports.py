"""What importing dedup's stages does to the process."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_nltk_imported_without_scipy_keeps_fisher_exact_working():
    """Segmenting imports nltk with scipy.stats held back (half a second saved at every start);
    nltk's one use of scipy.stats still works afterwards."""
    pytest.importorskip("scipy.stats")
    code = (
        "import sys\n"
        "from dedup.segment import get_segmenter\n"
        "get_segmenter(())\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "from nltk.metrics import BigramAssocMeasures\n"
        "print(round(BigramAssocMeasures.fisher(1, (2, 3), 10), 6))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.933333"


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
