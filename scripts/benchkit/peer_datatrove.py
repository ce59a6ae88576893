"""Run datatrove's four-stage MinHash dedup on a folder of JSONL shards (benchmark venv only).

Executed by ``scripts/bench_peers.py`` with the peers' virtualenv interpreter, never imported by
dedup. Writes the ids of the removed documents, one per line, to ``--removed`` and prints one
JSON line with stage timings.

Usage: peer_datatrove.py --input DIR --work DIR --removed FILE --workers N --bands B --rows R
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True, help="folder of .jsonl shards ({id, text})")
    parser.add_argument("--work", required=True)
    parser.add_argument("--removed", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--bands", type=int, default=9)
    parser.add_argument("--rows", type=int, default=13)
    parser.add_argument("--ngram", type=int, default=5)
    args = parser.parse_args()

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    shards = sorted(f for f in os.listdir(args.input) if f.endswith(".jsonl"))
    tasks = len(shards)
    config = MinhashConfig(
        n_grams=args.ngram,
        num_buckets=args.bands,
        hashes_per_bucket=args.rows,
        hash_config=HashConfig(precision=64, hash_fc="xxhash"),
    )
    w = args.work
    logs = os.path.join(w, "logs")

    def reader():
        return JsonlReader(args.input, glob_pattern="*.jsonl", text_key="text", id_key="id")

    stages = [
        ("signatures", [reader(), MinhashDedupSignature(output_folder=f"{w}/sigs", config=config)], tasks),
        ("buckets", [MinhashDedupBuckets(input_folder=f"{w}/sigs", output_folder=f"{w}/buckets",
                                         config=config)], config.num_buckets),
        ("cluster", [MinhashDedupCluster(input_folder=f"{w}/buckets", output_folder=f"{w}/remove_ids",
                                         config=config)], 1),
        ("filter", [reader(), MinhashDedupFilter(input_folder=f"{w}/remove_ids",
                                                  exclusion_writer=JsonlWriter(f"{w}/removed",
                                                                               compression=None)),
                    JsonlWriter(f"{w}/kept", compression=None)], tasks),
    ]
    timings = {}
    for name, pipeline, n_tasks in stages:
        start = time.perf_counter()
        LocalPipelineExecutor(pipeline=pipeline, tasks=n_tasks, workers=min(args.workers, n_tasks),
                              logging_dir=f"{logs}/{name}", skip_completed=False).run()
        timings[name] = round(time.perf_counter() - start, 3)

    removed = []
    for root, _dirs, files in os.walk(f"{w}/removed"):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    removed.extend(json.loads(line)["id"] for line in f)
    with open(args.removed, "w", encoding="utf-8") as f:
        f.write("".join(f"{i}\n" for i in removed))
    print(json.dumps({"timings": timings, "removed": len(removed)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
