"""Progress on stderr: one bar per stage (prepare in bytes of the inputs against their total
size, plan and write in documents), only when asked for (or on a terminal), never with -q."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import write_shards

from dedup.cli import main

pytest.importorskip("tqdm")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_progress_bars_per_stage_with_totals(tmp_path, jobs):
    shards = write_shards(tmp_path / "shards")
    size = sum(p.stat().st_size for p in shards)
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(main, ["clean", str(tmp_path / "shards"), "-o", str(tmp_path / "out"), "--progress",
                                       "--jobs", jobs, "--id-field", "", "--summary-json", str(summary)])
    assert result.exit_code == 0, result.stderr
    counts = json.loads(summary.read_text())
    final = {}
    for line in re.split(r"[\r\n]", result.stderr):
        stage = line.split(":", 1)[0]
        if stage in ("prepare", "plan", "write") and "100%" in line:
            final[stage] = line
    assert set(final) == {"prepare", "plan", "write"}, result.stderr
    # prepare: the bytes of the input files (tqdm shows them scaled by 1024), the documents beside
    assert f"{size / 1024:.1f}k/{size / 1024:.1f}k" in final["prepare"]
    assert f"{counts['documents_in']} docs" in final["prepare"]
    n = counts["documents_in"]
    assert f" {n}/{n} " in final["plan"] and f" {n}/{n} " in final["write"]


def test_no_progress_without_asking_or_with_quiet(tmp_path):
    write_shards(tmp_path / "shards")
    for extra in ([], ["--progress", "-q"], ["--no-progress"]):
        result = CliRunner().invoke(main, ["clean", str(tmp_path / "shards"), "-o", str(tmp_path / f"out{len(extra)}"),
                                           "--id-field", "", "--jobs", "1", *extra])
        assert result.exit_code == 0 and result.stderr == "", (extra, result.stderr)
