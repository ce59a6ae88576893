"""Remote data through fsspec: inputs and outputs named by URLs. In-process with fsspec's
``memory://`` file system (``--jobs 1``: a worker process has its own memory), and in a
subprocess with ``file://`` URLs (workers open the URLs themselves). No network."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import invoke, read_jsonl, write_jsonl, write_shards

from dedup.cli import main

fsspec = pytest.importorskip("fsspec")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def memory():
    """A fresh prefix of fsspec's in-process memory file system, removed after."""
    fs = fsspec.filesystem("memory")
    root = f"/dedup-test-{uuid.uuid4().hex}"
    yield fs, f"memory://{root}"
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _upload(fs, url: str, path: Path) -> None:
    fs.pipe(url.removeprefix("memory://"), path.read_bytes())


def _local_run(tmp_path: Path, *args: str) -> dict[str, bytes]:
    """The outputs of the same run on local files (the reference)."""
    out = tmp_path / "local-out"
    result = invoke("clean", *args, "-o", f"{out}/", "--jobs", "1", "-q")
    assert result.exit_code == 0, result.output
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_memory_prefix_in_and_out_is_byte_identical_to_local(tmp_path, memory):
    fs, root = memory
    shards = write_shards(tmp_path / "shards")
    for shard in shards:
        _upload(fs, f"{root}/in/{shard.name}", shard)
    fs.pipe(f"{root.removeprefix('memory://')}/in/.hidden.jsonl", b'{"text": "hidden"}\n')
    expected = _local_run(tmp_path, str(tmp_path / "shards"))
    result = invoke("clean", f"{root}/in", "-o", f"{root}/out/", "--report", f"{root}/report.jsonl", "--jobs", "1",
                    "-q")
    assert result.exit_code == 0, result.output
    prefix = root.removeprefix("memory://")
    written = {name[len(prefix) + len("/out/"):]: fs.cat(name) for name in fs.find(f"{prefix}/out")}
    assert written == expected
    assert not [name for name in fs.find(prefix) if name.endswith(".part")]  # no temporary left
    report = [json.loads(line) for line in fs.cat(f"{prefix}/report.jsonl").decode().splitlines()]
    assert report[-1]["type"] == "summary" and report[-1]["documents_in"] > report[-1]["documents_out"] > 0


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst", ".parquet"])
def test_memory_compressed_and_parquet_files_round_trip(tmp_path, memory, suffix):
    fs, root = memory
    records = [{"id": f"d{i}", "text": f"Document {i % 3} says the harbor ferry runs on time every day."}
               for i in range(9)]
    local = tmp_path / f"in{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(records), local)
    elif suffix.endswith(".gz"):
        write_jsonl(local, records, opener=gzip.open)
    else:
        import zstandard

        local.write_bytes(zstandard.ZstdCompressor().compress(
            "".join(json.dumps(r) + "\n" for r in records).encode()))
    _upload(fs, f"{root}/{local.name}", local)
    out = f"{root}/out{suffix}"
    result = invoke("clean", f"{root}/{local.name}", "-o", out, "--removed", f"{root}/removed{suffix}",
                    "--jobs", "1", "--id-field", "id", "-q")
    assert result.exit_code == 0, result.output
    data = fs.cat(out.removeprefix("memory://"))
    if suffix == ".parquet":
        kept = pq.read_table(io.BytesIO(data)).to_pylist()
    else:
        import zstandard

        raw = (gzip.decompress(data) if suffix.endswith(".gz")
               else zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read())
        kept = [json.loads(line) for line in raw.decode().splitlines()]
    assert [r["id"] for r in kept] == ["d0", "d1", "d2"]
    assert fs.exists(f"{root.removeprefix('memory://')}/removed{suffix}")


def test_memory_text_input_to_local_output(tmp_path, memory):
    fs, root = memory
    fs.pipe(f"{root.removeprefix('memory://')}/notes.txt",
            b"The ferry runs on time.\n\nThe ferry runs on time.\n\nThe bridge opens at nine.\n")
    out = tmp_path / "notes.txt"
    result = invoke("clean", f"{root}/notes.txt", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert out.read_text() == "The ferry runs on time.\n\nThe bridge opens at nine.\n"


def test_remote_output_refusals_are_one_line(tmp_path, memory):
    fs, root = memory
    shards = write_shards(tmp_path / "shards", shards=2)
    for shard in shards:
        _upload(fs, f"{root}/in/{shard.name}", shard)
    one = f"{root}/in/{shards[0].name}"
    for args, message in [
        ((one, "-o", one), "is the input"),
        ((f"{root}/in", "-o", f"{root}/in/cleaned/"), "is inside input"),
        ((one, "-o", f"{root}/out.jsonl", "--report", one), "is the input"),
        ((f"{root}/in/", "-o", f"{root}/"), "holds the input"),
        ((f"{root}/missing.jsonl",), "no such file or directory"),
    ]:
        result = CliRunner().invoke(main, ["clean", *args, "--jobs", "1"])
        assert result.exit_code != 0, args
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    fs.pipe(f"{root.removeprefix('memory://')}/taken.jsonl", b"old\n")
    result = CliRunner().invoke(main, ["clean", one, "-o", f"{root}/taken.jsonl", "--jobs", "1"])
    assert result.exit_code == 1 and "already exists; pass --force" in result.stderr
    assert fs.cat(f"{root.removeprefix('memory://')}/taken.jsonl") == b"old\n"


def test_a_failed_write_leaves_no_object_under_the_final_name(tmp_path, memory):
    fs, root = memory
    records = [{"text": "The ferry runs on time."}, {"text": 5}]  # the second record is bad
    local = tmp_path / "in.jsonl"
    write_jsonl(local, records)
    _upload(fs, f"{root}/in.jsonl", local)
    result = CliRunner().invoke(main, ["clean", f"{root}/in.jsonl", "-o", f"{root}/out.jsonl", "--jobs", "1"])
    assert result.exit_code == 1
    assert fs.find(root.removeprefix("memory://")) == [f"{root.removeprefix('memory://')}/in.jsonl"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def test_file_urls_in_a_subprocess_with_workers(tmp_path):
    shards = write_shards(tmp_path / "shards")
    expected = _local_run(tmp_path, str(tmp_path / "shards"))
    out = tmp_path / "url-out"
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "clean", (tmp_path / "shards").as_uri(), "-o", out.as_uri() + "/",
         "--report", (tmp_path / "r.jsonl.gz").as_uri(), "--jobs", "2", "--id-field", "", "-q"],
        capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    written = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert written == expected and len(written) == len(shards)
    assert read_jsonl(tmp_path / "r.jsonl.gz", opener=gzip.open)[-1]["documents_out"] > 0


def test_missing_fsspec_is_one_line_naming_the_extra(tmp_path):
    code = ("import sys; sys.modules['fsspec'] = None; from dedup.cli import main; "
            "main(['clean', 's3://bucket/a.jsonl'], prog_name='dedup')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "dedup: error: s3://bucket/a.jsonl: remote paths need fsspec: pip install 'dedup-text[remote]'"]


def test_memory_urls_with_workers_are_refused_in_one_line(tmp_path, memory):
    fs, root = memory
    shards = write_shards(tmp_path / "shards", shards=2)
    for shard in shards:
        _upload(fs, f"{root}/in/{shard.name}", shard)
    result = CliRunner().invoke(main, ["clean", f"{root}/in", "-o", f"{root}/out/", "--jobs", "2"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "workers do not share; pass --jobs 1" in result.stderr
    assert not fs.exists(f"{root.removeprefix('memory://')}/out")
