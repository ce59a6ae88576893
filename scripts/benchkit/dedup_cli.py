"""How the benchmarks drive ``python -m dedup clean``, whatever options the CLI has today.

``--mode documents|full`` is used when the CLI has it. Otherwise "documents" is spelled with the
existing switches (no repairs, no sentence/paragraph dedup, boilerplate and captions kept: only
near-duplicate documents are removed) and "full" is the CLI's defaults. Only switches that appear
in ``dedup clean --help`` are passed.
"""

from __future__ import annotations

import json
from pathlib import Path

DOCUMENT_ONLY_SWITCHES = [
    ["--no-fix-encoding"], ["--no-split-glued"], ["--no-split-splices"], ["--no-quote-space"],
    ["--no-unwrap-lines"], ["--no-dehyphenate"], ["--no-rejoin-paragraphs"],
    ["--no-dedup-paragraphs"], ["--no-dedup-sentences"], ["--boilerplate", "keep"],
    ["--captions", "keep"],
]


def clean_args(help_text: str, mode: str) -> list[str]:
    """Arguments selecting ``mode`` ("documents" or "full") for a JSONL corpus with ``id`` fields."""
    args: list[str] = []
    if "--id-field" in help_text:
        args += ["--id-field", "id"]
    if "--mode" in help_text:
        return args + ["--mode", mode]
    if mode == "documents":
        for switch in DOCUMENT_ONLY_SWITCHES:
            if switch[0] in help_text:
                args += switch
    return args


def output_records(path: Path):
    """Records of a JSONL output that is one file or a directory of ``*.jsonl`` files."""
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        with file.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def output_ids(path: Path) -> list[str]:
    return [str(r["id"]) for r in output_records(path)]


def output_count(path: Path) -> int:
    if not path.exists():
        return -1
    return sum(1 for _ in output_records(path))
