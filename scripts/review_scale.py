"""How long the review page of a big report takes, and how big it is.

Writes a JSON Lines report of ``--changes`` change records (five kinds, over documents of about
2 KB, a tenth of them also removed as near duplicates of the one before) and the documents it points into, then
times ``dedup inspect REPORT --html PAGE`` run where the inputs are (a subprocess, so the time
includes starting Python and reading the report) and prints the page's size.

    python scripts/review_scale.py --changes 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

KINDS = ("boilerplate_removed", "duplicate_removed", "caption_removed", "quote_space", "line_unwrapped")
WORDS = ("council budget storm ferry library school road police water river bridge market vote "
         "mayor said would could after before during people city county state week month").split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--per-document", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="review-scale-") as folder:
        corpus = os.path.join(folder, "in")
        os.mkdir(corpus)
        report = os.path.join(folder, "report.jsonl")
        documents = args.changes // args.per_document
        sentences: list[str] = []
        with open(report, "w", encoding="utf-8") as out:
            out.write(json.dumps({"type": "run", "inputs": [corpus], "settings": {"threshold": 0.8,
                                                                                   "shingle_size": 5}}) + "\n")
            for index in range(documents):
                name = f"doc{index:06d}.txt"
                if index % 10 == 9:  # a reprint of the document before, a few words changed
                    sentences = [s if rng.random() < 0.9 else s.replace(" ", " new ", 1) for s in sentences]
                else:
                    sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."
                                 for _ in range(28)]
                text = " ".join(sentences)
                with open(os.path.join(corpus, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
                starts = sorted(rng.sample(range(len(sentences)), args.per_document))
                for number, which in enumerate(starts):
                    start = sum(len(s) + 1 for s in sentences[:which])
                    before = sentences[which]
                    out.write(json.dumps({"type": "change", "document": name, "kind": KINDS[number % len(KINDS)],
                                          "start": start, "end": start + len(before), "before": before,
                                          "after": "", "reason": "made up for a timing"}) + "\n")
                if index % 10 == 9:
                    out.write(json.dumps({"type": "document", "id": name, "removed": True,
                                          "duplicate_of": f"doc{index - 1:06d}.txt",
                                          "similarity": round(rng.uniform(0.8, 1.0), 3), "cluster": index}) + "\n")
            out.write(json.dumps({"type": "summary", "documents_in": documents,
                                  "changes": {k: args.changes // len(KINDS) for k in KINDS}}) + "\n")
        page = os.path.join(folder, "review.html")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dedup", "inspect", report, "--html", page, "--limit", "100"],
                       check=True, cwd=folder)
        seconds = time.perf_counter() - started
        print(f"{args.changes:,} changes in {documents:,} documents (report {os.path.getsize(report) / 1e6:.1f} MB): "
              f"page written in {seconds:.2f} s, {os.path.getsize(page) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
