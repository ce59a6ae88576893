"""Golden cases: tests/cases/*.json, each a list of {label, comment, input, expected[, xfail]}.

``expected`` is the cleaned text, or a list of sentences: what :func:`dedup.sentences` gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dedup
from dedup.edits import Edit, apply_edits

CASES = []
for path in sorted((Path(__file__).parent / "cases").glob("*.json")):
    for case in json.loads(path.read_text(encoding="utf-8")):
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
        CASES.append(pytest.param(case, id=f"{path.stem}:{case['label']}", marks=marks))


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    if isinstance(case["expected"], list):
        assert dedup.sentences(case["input"]) == case["expected"], case["comment"]
        return
    result = dedup.clean_and_explain(case["input"])
    assert result.text == case["expected"], case["comment"]
    replay = apply_edits(case["input"], [Edit(c.start, c.end, c.after, c.kind) for c in result.changes])
    assert replay == result.text
    for change in result.changes:
        assert case["input"][change.start : change.end] == change.before
