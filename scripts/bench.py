#!/usr/bin/env python3
"""Benchmark dedup against the hashing limit, in one run, on real news text.

    python scripts/bench.py                      # the three corpora, 3 repetitions
    python scripts/bench.py --corpus faulty,reuters --modes full --skip datasketch_naive,datasketch_bulk_legacy
    python scripts/bench.py --mb 3 --repeat 1    # CI-sized smoke run
    python scripts/bench.py --json bench.json    # also write every figure as JSON

Builds (or reuses) the corpora in ``~/.cache/dedup-bench``: ``grown``, real BBC articles grown
into a crawl of ``--mb`` MB (``scripts/benchkit/corpus.py``); ``faulty``, the evaluation's fault
generator (v2) over its news sources; ``reuters``, the raw Reuters-21578 stories the evaluation
reads as real faulty text (``scripts/benchkit/faulty.py``). Then, for each corpus, measures, each
in a fresh process and ``--repeat`` times (medians reported):

- hash-only bound A (5-gram strings, xxh64 each) and bound B (word hashes combined in numpy);
- datasketch naive (``update()`` per shingle, SHA-1; on the first ``--naive-mb`` MB only),
  datasketch bulk (``MinHash.generator``/``update_batch``, xxh32, ``affine32``) and the same with
  the ``legacy`` scheme;
- dedup's signature stage (``dedup.fingerprint``), when importable;
- ``dedup clean`` end to end through its CLI, ``--mode documents`` and ``--mode full``, with
  ``--jobs 1`` and ``--jobs 2`` when the CLI has ``--jobs``, when the CLI exists;
- for the modes of ``--ceiling`` (document mode by default), the most the workers could gain on
  this machine: the fixed cost of a run, and how much runs side by side slow each other.

Every throughput is also given as a ratio to bound A measured in the same run (x bound A > 1 means
faster than merely hashing the 5-gram strings). Word 5-grams, 128 permutations, threshold 0.8.
Rows for parts of dedup that do not exist yet say "not available" and the run still succeeds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from benchkit import corpus as corpus_mod  # noqa: E402
from benchkit import dedup_cli, faulty, measure, table  # noqa: E402

STAGE_ROWS = [
    ("bound_a", "hash-only bound A (5-gram strings, xxh64)"),
    ("bound_b", "hash-only bound B (word xxh64, numpy combine)"),
    ("datasketch_naive", "datasketch naive (update per shingle, sha1)"),
    ("datasketch_bulk", "datasketch bulk (update_batch, xxh32, affine32)"),
    ("datasketch_bulk_legacy", "datasketch bulk, legacy scheme"),
    ("dedup_signatures", "dedup signature stage (dedup.fingerprint)"),
]


def child_env() -> dict:
    env = measure.tree_env(REPO)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def environment() -> dict:
    import datasketch
    import numpy
    import xxhash

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "uncommitted"
    return {
        "python": platform.python_version(), "cpu": cpu, "cores": os.cpu_count(),
        "numpy": numpy.__version__, "datasketch": datasketch.__version__, "xxhash": xxhash.VERSION,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "dedup_rev": rev,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def run_stage(stage: str, corpus: corpus_mod.Corpus, repeat: int, limit_bytes: int | None,
              dedup_func: str) -> dict:
    cmd = [sys.executable, str(HERE / "benchkit" / "stages.py"), stage, "--corpus", str(corpus.jsonl),
           "--dedup-func", dedup_func]
    if limit_bytes:
        cmd += ["--limit-bytes", str(limit_bytes)]
    runs = []
    for _ in range(repeat):
        res = measure.run(cmd, cwd=REPO, env=child_env(), sample_tree=False)
        data = measure.last_json_line(res.stdout)
        if res.returncode != 0 or not data:
            return {"stage": stage, "error": (res.stderr.strip().splitlines() or ["no output"])[-1]}
        if "unavailable" in data:
            return {"stage": stage, "unavailable": data["unavailable"]}
        runs.append(data)
    seconds = measure.median([r["seconds"] for r in runs])
    out = dict(runs[-1])
    stage_extra = [r["stage_peak_kb"] - r["rss_loaded_kb"] for r in runs if r.get("stage_peak_kb")]
    out.update({
        "seconds": seconds, "all_seconds": [round(r["seconds"], 4) for r in runs],
        "mb_s": r_mb_s(out["bytes"], seconds), "cores": 1,
        "peak_rss_kb": max(r["process_peak_kb"] for r in runs),
        "stage_rss_kb": max(stage_extra) if stage_extra else None,
    })
    for key in ("shingle_seconds", "minhash_seconds"):
        if key in runs[0]:
            out[key] = measure.median([r[key] for r in runs])
    # bytes of RSS per document held: only meaningful for stages that keep a signature per document
    holds = "signature_bytes" in out and out["stage_rss_kb"] is not None
    out["bytes_per_doc"] = out["stage_rss_kb"] * 1024 / out["docs"] if holds else None
    return out


def r_mb_s(n_bytes: int, seconds: float) -> float:
    return n_bytes / 1e6 / seconds if seconds > 0 else float("nan")


def dedup_cli_help() -> tuple[str | None, str]:
    """(help text, reason) for ``python -m dedup clean --help``; help is None if unavailable."""
    res = subprocess.run([sys.executable, "-m", "dedup", "clean", "--help"], cwd=REPO, env=child_env(),
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        reason = (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[-1]
        return None, reason
    return res.stdout, ""


def run_e2e(corpus: corpus_mod.Corpus, mode: str, jobs: int | None, repeat: int, timeout: float,
            extra: list[str], help_text: str, shards: int = 0) -> dict:
    """``dedup clean`` on the corpus file, or with ``shards`` on the corpus split into that many
    JSONL files written to an output directory (each worker then reads and writes shards)."""
    mode_args = dedup_cli.clean_args(help_text, mode)
    source = corpus_mod.shards(corpus, shards) if shards else corpus.jsonl
    runs, kept = [], None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
            out, report = Path(tmp) / ("out" if shards else "out.jsonl"), Path(tmp) / "report.jsonl"
            cmd = [sys.executable, "-m", "dedup", "clean", str(source), "-o", str(out),
                   "--report", str(report), *mode_args, *extra]
            if jobs is not None:
                cmd += ["--jobs", str(jobs)]
            res = measure.run(cmd, cwd=REPO, env=child_env(), timeout=timeout)
            if res.returncode != 0:
                tail = (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[-1]
                return {"error": f"exit {res.returncode}: {tail}", "cmd": " ".join(cmd[1:])}
            kept = dedup_cli.output_count(out)
            runs.append(res)
    wall = measure.median([r.wall_s for r in runs])
    cores = jobs or 1
    return {
        "seconds": wall, "all_seconds": [round(r.wall_s, 3) for r in runs],
        "cpu_seconds": measure.median([r.user_s + r.sys_s for r in runs]),
        "mb_s": r_mb_s(corpus.n_bytes, wall), "cores": cores,
        "peak_rss_kb": max(r.peak_rss_kb for r in runs),
        "peak_tree_rss_kb": max(r.peak_tree_rss_kb for r in runs),
        "docs": corpus.n_docs, "bytes": corpus.n_bytes, "kept": kept,
        "removed": corpus.n_docs - kept if kept is not None and kept >= 0 else None,
        "cmd": " ".join([f"python -m dedup clean {'SHARDS/' if shards else 'CORPUS'} -o OUT --report REPORT",
                         *mode_args, *extra]
                        + ([] if jobs is None else ["--jobs", str(jobs)])),
    }


def run_ceiling(corpus: corpus_mod.Corpus, mode: str, workers: int, repeat: int, timeout: float,
                extra: list[str], help_text: str) -> dict:
    """The most ``workers`` processes could gain over one on this machine, for this run (Amdahl):

    - ``fixed``: the wall time of ``dedup clean --jobs 1`` on the corpus's first document alone
      (the interpreter's start, the imports, setting up, writing), paid whatever the input;
    - ``alone`` and ``together``: the wall time of one ``--jobs 1`` run on the corpus by itself,
      and of each of ``workers`` such runs started at once (alternated, ``repeat`` times): how
      much running side by side slows each process on this machine (shared caches, memory).

    The rest of a run divides at best over the workers, each slowed as the runs side by side were:
    ``ceiling = alone / (fixed + (alone - fixed) * together / alone / workers)``."""
    import threading

    mode_args = dedup_cli.clean_args(help_text, mode)
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        first = Path(tmp) / "first.jsonl"
        with open(corpus.jsonl, "rb") as handle:
            first.write_bytes(handle.readline())

        def command(source: Path, k: int) -> list[str]:
            return [sys.executable, "-m", "dedup", "clean", str(source), "-o", str(Path(tmp) / f"out-{k}.jsonl"),
                    "--report", str(Path(tmp) / f"report-{k}.jsonl"), "--force", *mode_args, *extra, "--jobs", "1"]

        fixed, alone, together = [], [], []
        for _ in range(repeat):
            fixed.append(measure.run(command(first, 0), cwd=REPO, env=child_env(), timeout=timeout,
                                     sample_tree=False))
            alone.append(measure.run(command(corpus.jsonl, 0), cwd=REPO, env=child_env(), timeout=timeout,
                                     sample_tree=False))
            threads = [threading.Thread(target=lambda k=k: together.append(measure.run(
                command(corpus.jsonl, k), cwd=REPO, env=child_env(), timeout=timeout, sample_tree=False)))
                for k in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    failed = [r for r in fixed + alone + together if r.returncode != 0]
    if failed:
        return {"error": (failed[0].stderr.strip().splitlines() or [f"exit {failed[0].returncode}"])[-1]}
    f, a, t = (measure.median([r.wall_s for r in rs]) for rs in (fixed, alone, together))
    return {"workers": workers, "fixed_seconds": f, "alone_seconds": a, "together_seconds": t,
            "slowdown": t / a, "ceiling": measure.speedup_ceiling(f, a, t, workers)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="grown,faulty,reuters",
                        help="corpora to measure, comma-separated: grown (the BBC crawl of --mb MB), "
                             "faulty (evaluation generator v2 over news), reuters (raw Reuters-21578)")
    parser.add_argument("--mb", type=float, default=50.0, help="size of the grown corpus in MB (default 50)")
    parser.add_argument("--faulty-mb", type=float, default=0,
                        help="size of the faulty corpus in MB (default 0: one pass over the sources, 7 MB)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per measurement (median)")
    parser.add_argument("--naive-mb", type=float, default=5.0,
                        help="run datasketch naive on the first N MB only (it is slow); 0 = all")
    parser.add_argument("--jobs", default="1,2", help="worker counts for dedup clean (default 1,2)")
    parser.add_argument("--modes", default="documents,full", help="dedup clean modes to run")
    parser.add_argument("--ceiling", default="documents",
                        help="modes whose best possible speed-up with the most --jobs is measured too "
                             "(see run_ceiling; '' for none; each repetition runs the corpus 1 + jobs times)")
    parser.add_argument("--shards", type=int, default=0,
                        help="also run dedup clean on the corpus split into N JSONL shards (0: no)")
    parser.add_argument("--dedup-func", default="signatures",
                        help="function in dedup.fingerprint for the signature stage")
    parser.add_argument("--clean-arg", action="append", default=[],
                        help="extra argument passed to every dedup clean run (repeatable)")
    parser.add_argument("--skip", default="", help="comma-separated row names to skip "
                        "(e.g. datasketch_naive,e2e)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per dedup clean run")
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--corpus-only", action="store_true", help="build the corpus and stop")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    env = environment()
    results: dict = {"env": env, "repeat": args.repeat, "corpora": {}}
    for name in [n.strip() for n in args.corpus.split(",") if n.strip()]:
        if name == "grown":
            corpus, source = corpus_mod.build(args.mb, args.seed), corpus_mod.SOURCE_DESCRIPTION
        else:
            corpus, source = faulty.build(name, args.faulty_mb or None), faulty.DESCRIPTIONS[name]
        print(f"corpus {name}: {corpus.jsonl}")
        print(f"        {corpus.n_docs:,} docs, {corpus.n_bytes / 1e6:.1f} MB, {corpus.kinds}; source: {source}")
        if not args.corpus_only:
            results["corpora"][name] = measure_corpus(corpus, source, args, skip)
    if args.corpus_only:
        return 0
    print(f"env:    Python {env['python']}, {env['cpu']}, {env['cores']} cores, numpy {env['numpy']}, "
          f"datasketch {env['datasketch']}, xxhash {env['xxhash']}, dedup {env['dedup_rev']}")
    print(f"params: word 5-grams, 128 permutations, threshold 0.8; median of {args.repeat}")
    for name, measured in results["corpora"].items():
        info = measured["corpus"]
        print(f"\n== corpus {name}: {info['docs']:,} docs, {info['bytes'] / 1e6:.1f} MB ({info['source']})\n")
        print_report(measured)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def measure_corpus(corpus: corpus_mod.Corpus, source: str, args: argparse.Namespace, skip: set[str]) -> dict:
    """Every row of the report for one corpus (see the module's docstring)."""
    results: dict = {"corpus": {"path": str(corpus.jsonl), "docs": corpus.n_docs, "bytes": corpus.n_bytes,
                                "kinds": corpus.kinds, "source": source},
                     "stages": {}, "e2e": {}, "ceiling": {}}
    for stage, label in STAGE_ROWS:
        if stage in skip:
            continue
        limit = int(args.naive_mb * 1e6) if stage == "datasketch_naive" and args.naive_mb > 0 else None
        print(f"  measuring {label} ...", file=sys.stderr, flush=True)
        results["stages"][stage] = {"label": label, **run_stage(stage, corpus, args.repeat, limit,
                                                               args.dedup_func)}

    if "e2e" not in skip:
        help_text, reason = dedup_cli_help()
        if help_text is None:
            results["e2e"]["unavailable"] = f"dedup clean: not available ({reason})"
        else:
            jobs_list: list[int | None] = [int(j) for j in args.jobs.split(",") if j.strip()]
            if "--jobs" not in help_text:
                jobs_list = [None]
            for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
                for jobs in jobs_list:
                    key = f"{mode}/jobs={jobs or 1}"
                    print(f"  measuring dedup clean --mode {mode} --jobs {jobs} ...", file=sys.stderr,
                          flush=True)
                    results["e2e"][key] = run_e2e(corpus, mode, jobs, args.repeat, args.timeout,
                                                  args.clean_arg, help_text)
                    if args.shards:
                        print(f"  measuring dedup clean --mode {mode} --jobs {jobs} on {args.shards} shards ...",
                              file=sys.stderr, flush=True)
                        results["e2e"][f"{key}/shards={args.shards}"] = run_e2e(
                            corpus, mode, jobs, args.repeat, args.timeout, args.clean_arg, help_text, args.shards)
            most = max((j for j in jobs_list if j), default=1)
            for mode in [m.strip() for m in args.ceiling.split(",") if m.strip()]:
                if most > 1 and mode in args.modes.split(","):
                    print(f"  measuring the ceiling of dedup clean --mode {mode} with {most} workers ...",
                          file=sys.stderr, flush=True)
                    results["ceiling"][mode] = run_ceiling(corpus, mode, most, args.repeat, args.timeout,
                                                           args.clean_arg, help_text)
            idle = measure.run([sys.executable, "-m", "dedup", "clean", "--help"], cwd=REPO,
                               env=child_env())
            results["e2e"]["baseline_rss_kb"] = idle.peak_rss_kb

    return results


def print_report(results: dict) -> None:
    stages = results["stages"]
    bound_a = stages.get("bound_a", {}).get("mb_s")
    bound_b = stages.get("bound_b", {}).get("mb_s")

    def ratio(mb_s_per_core, bound):
        return (mb_s_per_core / bound) if (mb_s_per_core and bound) else None

    headers = ["stage", "median s", "MB", "MB/s/core", "x bound A", "x bound B", "peak RSS MB",
               "stage RSS MB", "B/doc", "note"]
    rows = []
    for stage, label in STAGE_ROWS:
        r = stages.get(stage)
        if r is None:
            continue
        if "unavailable" in r or "error" in r:
            rows.append([label, None, None, None, None, None, None, None, None,
                         "not available: " + r.get("unavailable", r.get("error", ""))])
            continue
        note = ""
        if stage == "dedup_signatures":
            note = r.get("identical", "")
            if "shingle_seconds" in r:
                note += f"; shingling {r['shingle_seconds']:.2f}s + minhash {r['minhash_seconds']:.2f}s"
        if stage == "datasketch_naive":
            note = f"first {r['docs']:,} docs"
        rows.append([label, r["seconds"], r["bytes"] / 1e6, r["mb_s"], ratio(r["mb_s"], bound_a),
                     ratio(r["mb_s"], bound_b), r["peak_rss_kb"] / 1024,
                     (r["stage_rss_kb"] or 0) / 1024, r["bytes_per_doc"], note])
    print(table.render(headers, rows, right=set(range(1, 9))))

    e2e = results.get("e2e", {})
    print()
    if "unavailable" in e2e:
        print(e2e["unavailable"])
        return
    base_kb = e2e.get("baseline_rss_kb") or 0
    headers = ["dedup clean", "median s", "MB/s", "MB/s/core", "x bound A", "peak RSS MB",
               "tree RSS MB", "B/doc", "removed", "note"]
    rows = []
    single: dict[str, float] = {}
    for key, r in e2e.items():
        if not isinstance(r, dict):
            continue
        if "error" in r:
            rows.append([key, None, None, None, None, None, None, None, None, r["error"]])
            continue
        per_core = r["mb_s"] / r["cores"]
        group = key.replace(f"/jobs={r['cores']}", "")  # the same mode and input, any jobs
        note = ""
        if r["cores"] == 1:
            single[group] = r["seconds"]
        elif group in single:
            note = f"speed-up vs 1 job: {single[group] / r['seconds']:.2f}x"
        per_doc = max(0, r["peak_tree_rss_kb"] - base_kb) * 1024 / r["docs"]
        rows.append([key, r["seconds"], r["mb_s"], per_core, ratio(per_core, bound_a),
                     r["peak_rss_kb"] / 1024, r["peak_tree_rss_kb"] / 1024, per_doc, r["removed"], note])
    if rows:
        print(table.render(headers, rows, right=set(range(1, 9))))
        print(f"B/doc = (peak tree RSS - {base_kb / 1024:.0f} MB of an idle `dedup clean --help`) / documents")
    for mode, c in results.get("ceiling", {}).items():
        if "error" in c:
            print(f"ceiling, --mode {mode}: {c['error']}")
            continue
        one, many = e2e.get(f"{mode}/jobs=1", {}), e2e.get(f"{mode}/jobs={c['workers']}", {})
        measured = (f"; measured {one['seconds'] / many['seconds']:.2f}x"
                    if one.get("seconds") and many.get("seconds") else "")
        print(f"ceiling, --mode {mode}, {c['workers']} workers: at most {c['ceiling']:.2f}x = "
              f"{c['alone_seconds']:.2f} s / ({c['fixed_seconds']:.2f} s fixed + "
              f"{c['alone_seconds'] - c['fixed_seconds']:.2f} s x {c['slowdown']:.3f} / {c['workers']}){measured}")
        print(f"  (fixed: a run on one document; x {c['slowdown']:.3f}: each of {c['workers']} --jobs 1 runs "
              f"started at once took {c['together_seconds']:.2f} s, against {c['alone_seconds']:.2f} s alone)")


if __name__ == "__main__":
    sys.exit(main())
