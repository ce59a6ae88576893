"""The command behaves the way its users expect (issue 19): names, help, exit codes, formats,
summaries, ``inspect`` and ``diff``, all through the CLI."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def distribution_name() -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    return parser["metadata"]["name"]


def test_install_hints_name_this_distribution():
    # PyPI's "dedup" is an unrelated project (0.0.1, 0.0.2, 2017): a hint must never install it.
    name = distribution_name()
    assert name != "dedup"
    files = [*ROOT.joinpath("dedup").rglob("*.py"), ROOT / "README.md", *ROOT.joinpath("docs").glob("*.md")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for hint in re.findall(r"pip install '?([A-Za-z0-9_.-]+)\[", text):
            assert hint in (name, "."), f"{path.name}: pip install {hint}[...] installs another project"
        assert not re.search(r"\bdedup\[(ray|zstd|parquet|datasets|progress|test|lint)\]", text), path.name
