"""The Ray engine gives the same output bytes and the same report as the local engine.

Needs Ray (``pip install 'dedup-text[ray]'``); without it these tests are skipped with that reason,
except the one that checks the error a user gets when Ray is missing.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_shards

from dedup.cli import main

HAVE_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "Ray is not installed: pip install 'dedup-text[ray]' to run"
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason=NO_RAY)

TIMING = ("seconds", "mb_per_s", "jobs")


@pytest.fixture(scope="module")
def ray_session():
    if not HAVE_RAY:
        pytest.skip(NO_RAY)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def _clean(inputs: list[Path], out: Path, report: Path, *extra: str) -> dict:
    result = CliRunner().invoke(
        main, ["clean", *map(str, inputs), "-o", f"{out}/", "--report", str(report), *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(report.read_text(encoding="utf-8"))


def _outputs(out: Path) -> dict[str, bytes]:
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def _without_timing(report: dict) -> dict:
    report = dict(report)
    report["summary"] = {k: v for k, v in report["summary"].items() if k not in TIMING}
    return report


@needs_ray
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("extra", [(), ("--annotate",)], ids=["remove", "annotate"])
def test_ray_matches_local(ray_session, tmp_path, jobs, extra):
    inputs = write_shards(tmp_path / "in")
    local = _clean(inputs, tmp_path / "local", tmp_path / "local.json", "--jobs", jobs, *extra)
    remote = _clean(inputs, tmp_path / "ray", tmp_path / "ray.json", "--jobs", jobs,
                    "--engine", "ray", *extra)
    # The corpus exercises what must match: duplicates removed, boilerplate in >= 4 documents.
    summary = local["summary"]
    assert summary["duplicate_documents"] >= 3
    assert summary["boilerplate_units"] >= 2
    assert summary["changes"].get("boilerplate_removed", 0) >= 4
    assert len(_outputs(tmp_path / "local")) == 3
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")
    assert _without_timing(remote) == _without_timing(local)


@needs_ray
def test_ray_library_run_matches_local_with_small_batches(ray_session, tmp_path):
    from dedup.config import DedupConfig
    from dedup.io import ReadOptions
    from dedup.pipeline import RunOptions
    from dedup.run import run

    inputs = tuple(str(p) for p in write_shards(tmp_path / "in", shards=4, docs=24, seed=3))
    summaries = {}
    for engine in ("local", "ray"):
        options = RunOptions(inputs=inputs, output=f"{tmp_path / engine}/",
                             report=str(tmp_path / f"{engine}.jsonl"), jobs=2, batch_size=5,
                             engine=engine)
        summary = run(options, ReadOptions(), DedupConfig())
        summaries[engine] = {k: v for k, v in summary.items() if k not in TIMING}
    assert summaries["ray"] == summaries["local"]
    # The JSONL report's last line is the summary, with timing fields.
    ray_lines = (tmp_path / "ray.jsonl").read_bytes().splitlines()
    local_lines = (tmp_path / "local.jsonl").read_bytes().splitlines()
    assert len(local_lines) > 10 and ray_lines[:-1] == local_lines[:-1]
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


@needs_ray
def test_band_sharded_pairs_equal_single_process(ray_session):
    import numpy as np

    from dedup.corpus import band_keys, candidate_pairs
    from dedup.engines.ray import sharded_candidate_pairs

    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 4, size=(300, 32), dtype=np.uint32)  # few values: many shared buckets
    expected = candidate_pairs(band_keys(sigs, 16, 2))
    assert len(expected) > 100
    for shards in (1, 3, 16, 40):
        assert np.array_equal(sharded_candidate_pairs(sigs, 16, 2, shards), expected)


@needs_ray
def test_ray_engine_keeps_the_protocol(ray_session):
    from dedup.engines.ray import RayEngine

    engine = RayEngine(2)
    try:
        # A stage is any picklable function of (task, context): here divmod.
        assert list(engine.map(divmod, range(7), 3)) == [divmod(k, 3) for k in range(7)]
        assert list(engine.map(divmod, [8], 3)) == [(2, 2)]  # the same actors, the same context
    finally:
        engine.close()


def test_missing_ray_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    inputs = write_shards(tmp_path / "in", shards=2, docs=4)
    args = ["clean", *map(str, inputs), "-o", f"{tmp_path / 'out'}/", "--engine", "ray"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    expected = "dedup: error: --engine ray needs Ray: pip install 'dedup-text[ray]'"
    assert result.stderr.strip().splitlines() == [expected]
    assert not (tmp_path / "out").exists()


def test_ray_address_without_ray_engine_is_an_error(tmp_path):
    inputs = write_shards(tmp_path / "in", shards=2, docs=4)
    args = ["clean", *map(str, inputs), "-o", f"{tmp_path / 'out'}/", "--ray-address", "auto"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2  # a usage error
    assert result.stderr.strip() == "dedup: error: --ray-address needs --engine ray"


def test_import_dedup_does_not_import_ray():
    import subprocess

    code = "import sys, dedup, dedup.run, dedup.cli; print('ray' in sys.modules)"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                          check=True)
    assert done.stdout.strip() == "False"
