"""The Ray engine gives the same output bytes and the same report as the local engine.

Needs Ray (``pip install 'dedup-text[ray]'``); without it these tests are skipped with that reason,
except the one that checks the error a user gets when Ray is missing.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

HAVE_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "Ray is not installed: pip install 'dedup-text[ray]' to run"
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason=NO_RAY)

BANNER = "Sign up for our morning newsletter and get the day's top stories in your inbox."
FOOTER = "Copyright 2025 Harbor City Courier. All rights reserved. Do not redistribute."
CAPTION = "Photo: Harbor City Courier staff."
TIMING = ("seconds", "mb_per_s", "jobs")


def _article(rng: random.Random, topic: str) -> str:
    verbs = ["approved", "delayed", "opened", "closed", "reviewed", "expanded", "repaired"]
    people = ["officials", "residents", "engineers", "teachers", "volunteers", "inspectors"]
    sentences = [
        f"The {topic} {rng.choice(people)} {rng.choice(verbs)} plan number {rng.randint(1, 9999)} "
        f"on {rng.choice(['Monday', 'Tuesday', 'Friday'])} after {rng.randint(2, 90)} minutes of "
        f"talks about the {rng.choice(['budget', 'schedule', 'repairs', 'permits'])} and item {k}."
        for k in range(8)
    ]
    return " ".join(sentences[:4]) + "\n\n" + " ".join(sentences[4:])


def write_corpus(directory: Path, shards: int = 3, docs: int = 30, seed: int = 11) -> list[Path]:
    """JSONL shards with reprints (near-duplicates across shards), a banner, a footer and a
    caption in many documents, and a glued sentence boundary to repair."""
    rng = random.Random(seed)
    records = []
    for i in range(docs):
        text = _article(rng, f"topic{i}")
        if i % 2 == 0:
            text += "\n\n" + BANNER
        if i % 3 == 0:
            text += "\n\n" + FOOTER
        if i % 5 == 0:
            text = text.replace(". ", ".", 1) + "\n\n" + CAPTION
        records.append({"id": f"doc-{i}", "text": text})
        if i % 4 == 0:  # a reprint with a one-word edit, usually landing in another shard
            words = text.split(" ")
            words[3] = "Harborside"
            records.append({"id": f"doc-{i}-reprint", "text": " ".join(words)})
        if i % 7 == 0:  # an exact copy
            records.append({"id": f"doc-{i}-copy", "text": text})
    rng.shuffle(records)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(shards):
        path = directory / f"shard-{shard}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records[shard::shards]:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


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
def test_ray_matches_local(ray_session, tmp_path, jobs, extra, monkeypatch):
    import dedup.run

    inputs = write_corpus(tmp_path / "in")
    local = _clean(inputs, tmp_path / "local", tmp_path / "local.json", "--jobs", jobs, *extra)
    shard_runs = []
    clean_shards = dedup.run._clean_shards
    monkeypatch.setattr(dedup.run, "_clean_shards", lambda *a: shard_runs.append(1) or clean_shards(*a))
    remote = _clean(inputs, tmp_path / "ray", tmp_path / "ray.json", "--jobs", jobs,
                    "--engine", "ray", *extra)
    assert shard_runs == [1]  # shards were read, cleaned and written inside Ray tasks
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

    inputs = tuple(str(p) for p in write_corpus(tmp_path / "in", shards=4, docs=24, seed=3))
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
    from dedup.engine_ray import sharded_candidate_pairs

    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 4, size=(300, 32), dtype=np.uint32)  # few values: many shared buckets
    expected = candidate_pairs(band_keys(sigs, 16, 2))
    assert len(expected) > 100
    for shards in (1, 3, 16, 40):
        assert np.array_equal(sharded_candidate_pairs(sigs, 16, 2, shards), expected)


def test_missing_ray_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    inputs = write_corpus(tmp_path / "in", shards=2, docs=4)
    args = ["clean", *map(str, inputs), "-o", f"{tmp_path / 'out'}/", "--engine", "ray"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    expected = "dedup: error: --engine ray needs Ray: pip install 'dedup-text[ray]'"
    assert result.stderr.strip().splitlines() == [expected]
    assert not (tmp_path / "out").exists()


def test_ray_address_without_ray_engine_is_an_error(tmp_path):
    inputs = write_corpus(tmp_path / "in", shards=2, docs=4)
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
