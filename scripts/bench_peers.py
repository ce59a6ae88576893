#!/usr/bin/env python3
"""dedup side by side with text-dedup and datatrove MinHash dedup, on the same corpus and cores.

    python scripts/bench_peers.py                    # 50 MB corpus, all cores, 1 repetition
    python scripts/bench_peers.py --mb 3             # CI-sized
    python scripts/bench_peers.py --json peers.json

Parameters are matched: word 5-grams, 128 permutations, threshold 0.8, and the LSH banding that
threshold gives with 128 permutations (datasketch's and text-dedup's optimiser agree on 9 bands x 13
rows; datatrove takes them as ``num_buckets=9, hashes_per_bucket=13``). Each tool keeps the first
document of a duplicate cluster. Tokenisation differs by design of each tool: text-dedup splits on
``\\W`` and lower-cases; datatrove normalises (punctuation, digits, diacritics) and tokenises with
spaCy's blank English tokenizer; dedup normalises its own way (``dedup.fingerprint``).

The peers run from benchmark-only virtualenvs created on first use under
``~/.cache/dedup-bench`` (``scripts/benchkit/peers.py``); they are never dedup dependencies.

Reported per tool: wall time (median of ``--repeat``), MB/s, peak RSS (largest process and whole
process tree), documents removed, recall of the planted near-duplicate reprints (those whose true
5-gram Jaccard with their source is >= 0.8), and the pairwise agreement of the removed-document
sets (Jaccard of the id sets).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from benchkit import corpus as corpus_mod  # noqa: E402
from benchkit import dedup_cli, measure, peers, table  # noqa: E402

BANDS, ROWS = 9, 13


def child_env(extra: dict | None = None) -> dict:
    env = measure.tree_env(REPO)
    env.update({"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1",
                "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"})
    env.update(extra or {})
    return env


def read_ids(path: Path) -> list[str]:
    ids = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                ids.append(json.loads(line)["id"] if line.startswith("{") else line)
    return ids


def tail(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[-1][:300]


def timed(cmd: list[str], repeat: int, env: dict, cwd=None, prepare=None, timeout: float = 3600):
    """Run ``cmd`` ``repeat`` times (``prepare()`` before each); last result plus median wall."""
    results = []
    for _ in range(repeat):
        if prepare:
            prepare()
        res = measure.run(cmd, cwd=cwd, env=env, timeout=timeout)
        if res.returncode != 0:
            return res, None
        results.append(res)
    return results[-1], {
        "seconds": measure.median([r.wall_s for r in results]),
        "all_seconds": [round(r.wall_s, 3) for r in results],
        "cpu_seconds": measure.median([r.user_s + r.sys_s for r in results]),
        "peak_rss_kb": max(r.peak_rss_kb for r in results),
        "peak_tree_rss_kb": max(r.peak_tree_rss_kb for r in results),
    }


def run_dedup(corpus, workers, repeat, tmp: Path, all_ids, sharded: bool = False) -> dict:
    """dedup on the corpus file (the parent reads it, workers clean batches), or with
    ``sharded`` on the same shard folder datatrove reads (each worker reads and writes shards)."""
    source = corpus_mod.shards(corpus, workers) if sharded else corpus.jsonl
    out = tmp / ("dedup-out" if sharded else "dedup-out.jsonl")
    probe = measure.run([sys.executable, "-m", "dedup", "clean", "--help"], cwd=REPO, env=child_env(),
                        sample_tree=False)
    if probe.returncode != 0:
        return {"unavailable": f"dedup clean: not available ({tail(probe.stderr)})"}
    cmd = [sys.executable, "-m", "dedup", "clean", str(source), "-o", str(out),
           "--report", str(tmp / "dedup-report.jsonl")]
    cmd += dedup_cli.clean_args(probe.stdout, "documents")
    if "--jobs" in probe.stdout:
        cmd += ["--jobs", str(workers)]
    cmd.append("--force")  # the output exists after the first repetition
    res, stats = timed(cmd, repeat, child_env(), cwd=REPO)
    if stats is None:
        return {"error": f"exit {res.returncode}: {tail(res.stderr)}"}
    if sharded:
        stats["note"] = f"shards: {source.name}, as datatrove reads them"
    try:
        kept = set(dedup_cli.output_ids(out))
    except (KeyError, json.JSONDecodeError) as err:
        return {**stats, "error": f"output has no document ids ({err}); cannot compare"}
    stats["removed_ids"] = [i for i in all_ids if i not in kept]
    stats["cmd"] = " ".join(["python", *cmd[1:]])
    stats["version"] = "working tree"
    return stats


def run_datasketch(corpus, repeat, tmp: Path) -> dict:
    removed = tmp / "datasketch-removed.txt"
    cmd = [sys.executable, str(HERE / "benchkit" / "stages.py"), "datasketch_pipeline",
           "--corpus", str(corpus.jsonl), "--removed-out", str(removed),
           "--bands", str(BANDS), "--rows", str(ROWS)]
    res, stats = timed(cmd, repeat, child_env())
    if stats is None:
        return {"error": f"exit {res.returncode}: {tail(res.stderr)}"}
    import datasketch

    stats["removed_ids"] = read_ids(removed)
    stats["version"] = datasketch.__version__
    stats["cores_used"] = 1
    return stats


TEXT_DEDUP_TOML = """\
[input]
input_type = "local_files"
file_type = "json"
[input.read_arguments]
path = "json"
data_files = "{data}"
split = "train"
cache_dir = "{cache}"

[algorithm]
algorithm_name = "minhash"
text_column = "text"
num_proc = {workers}
num_perm = 128
threshold = 0.8
bands = {bands}
rows = {rows}
ngram_size = 5
min_length = 0
hash_func_name = "xxh3"
hash_bits = 32
check_false_positive = {verify}

[output]
output_dir = "{out}"

[debug]
logging_level = 20
"""


def run_text_dedup(corpus, workers, repeat, tmp: Path, verify: bool = True) -> dict:
    try:
        peer = peers.ensure(peers.text_dedup_peer())
    except Exception as err:  # noqa: BLE001
        return {"unavailable": f"text-dedup could not be installed: {err}"}
    work = tmp / "text-dedup"
    out = work / "out"

    def prepare():
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)

    if peer.version == peers.TEXT_DEDUP_OLD:
        # 0.4.0: click options
        cmd = [str(peer.bin_python), "-m", "text_dedup.minhash", "--path", "json",
               "--data_files", str(corpus.jsonl), "--split", "train", "--cache_dir", str(work / "cache"),
               "--output", str(out), "--column", "text", "--num_perm", "128", "--threshold", "0.8",
               "--b", str(BANDS), "--r", str(ROWS), "--ngram", "5", "--min_length", "0",
               "--num_proc", str(workers), "--hash_func", "xxh3", "--hash_bits", "32"]
        config_text = None
    else:
        # 0.4.1: settings come only from ./config.toml (pydantic-settings TOML source).
        # check_false_positive = true: without it 0.4.1 labels clusters with polars group ids,
        # which are not member indices, so its filter drops every member of a cluster instead
        # of keeping the first (measured: 1,934 removed vs ~1,000 planted + natural duplicates).
        config_text = TEXT_DEDUP_TOML.format(data=corpus.jsonl, cache=work / "cache", out=out,
                                             workers=workers, bands=BANDS, rows=ROWS,
                                             verify=str(verify).lower())
        cmd = [str(peer.bin_python), "-m", "text_dedup.minhash"]

    def prepare_all():
        prepare()
        if config_text:
            (work / "config.toml").write_text(config_text, encoding="utf-8")

    env = child_env({"HF_HOME": str(tmp / "hf-home")})
    res, stats = timed(cmd, repeat, env, cwd=work, prepare=prepare_all)
    if stats is None:
        return {"error": f"exit {res.returncode}: {tail(res.stderr)}"}
    kept_file = tmp / "text-dedup-kept.txt"
    code = ("import sys; from datasets import load_from_disk; "
            "open(sys.argv[2], 'w').write(''.join(i + '\\n' for i in load_from_disk(sys.argv[1])['id']))")
    got = measure.run([str(peer.bin_python), "-c", code, str(out), str(kept_file)], env=env,
                      sample_tree=False)
    if got.returncode != 0:
        return {**stats, "error": f"could not read kept ids: {tail(got.stderr)}"}
    kept = set(read_ids(kept_file))
    stats["removed_ids"] = [i for i in corpus_ids(corpus) if i not in kept]
    stats["version"] = peer.version
    stats["note"] = peer.note
    stats["cmd"] = ("python -m text_dedup.minhash " + " ".join(cmd[3:]).replace(str(tmp), "$TMP")
                    + (f"  (config.toml: check_false_positive={str(verify).lower()})" if config_text else ""))
    return stats


def run_datatrove(corpus, workers, repeat, tmp: Path) -> dict:
    try:
        peer = peers.ensure(peers.datatrove_peer())
    except Exception as err:  # noqa: BLE001
        return {"unavailable": f"datatrove could not be installed: {err}"}
    folder = corpus_mod.shards(corpus, workers)
    work, removed = tmp / "datatrove", tmp / "datatrove-removed.txt"

    def prepare():
        import shutil

        shutil.rmtree(work, ignore_errors=True)

    cmd = [str(peer.bin_python), str(HERE / "benchkit" / "peer_datatrove.py"), "--input", str(folder),
           "--work", str(work), "--removed", str(removed), "--workers", str(workers),
           "--bands", str(BANDS), "--rows", str(ROWS)]
    res, stats = timed(cmd, repeat, child_env({"HF_HOME": str(tmp / "hf-home")}), cwd=tmp,
                       prepare=prepare)
    if stats is None:
        return {"error": f"exit {res.returncode}: {tail(res.stderr)}"}
    stats["removed_ids"] = read_ids(removed)
    stats["stage_seconds"] = measure.last_json_line(res.stdout).get("timings")
    stats["version"] = peer.version
    stats["cmd"] = (f"peer_datatrove.py --workers {workers} --bands {BANDS} --rows {ROWS} "
                    f"(shards: {folder.name}, one task per shard)")
    return stats


_IDS: dict[Path, list[str]] = {}


def corpus_ids(corpus) -> list[str]:
    if corpus.jsonl not in _IDS:
        _IDS[corpus.jsonl] = corpus.load()[0]
    return _IDS[corpus.jsonl]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="repetitions per tool (median)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes each tool may use (default: all cores)")
    parser.add_argument("--tools", default="dedup,dedup-shards,datasketch,text-dedup,text-dedup-noverify,datatrove")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--setup-only", action="store_true", help="create the peer venvs and stop")
    args = parser.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]

    if args.setup_only:
        for peer in (peers.text_dedup_peer(), peers.datatrove_peer()):
            peers.ensure(peer)
            print(f"{peer.name} {peer.version}: {peer.venv}" + (f"  ({peer.note})" if peer.note else ""))
        return 0

    corpus = corpus_mod.build(args.mb, args.seed)
    all_ids = corpus_ids(corpus)
    planted = [d for d in corpus.planted() if d["jaccard"] >= 0.8]
    print(f"corpus: {corpus.jsonl}\n        {corpus.n_docs:,} docs, {corpus.n_bytes / 1e6:.1f} MB; "
          f"{len(planted)} planted reprints with true Jaccard >= 0.8")
    print(f"params: word 5-grams, 128 permutations, threshold 0.8, LSH {BANDS} bands x {ROWS} rows; "
          f"{args.workers} worker(s) per tool; median of {args.repeat}\n")

    results: dict = {"corpus": {"path": str(corpus.jsonl), "docs": corpus.n_docs, "bytes": corpus.n_bytes,
                                "planted_ge_0.8": len(planted)},
                     "workers": args.workers, "repeat": args.repeat, "bands": BANDS, "rows": ROWS,
                     "tools": {}}
    with tempfile.TemporaryDirectory(prefix="dedup-peers-") as tmp_name:
        tmp = Path(tmp_name)
        runners = {
            "dedup": lambda: run_dedup(corpus, args.workers, args.repeat, tmp, all_ids),
            "dedup-shards": lambda: run_dedup(corpus, args.workers, args.repeat, tmp, all_ids, sharded=True),
            "datasketch": lambda: run_datasketch(corpus, args.repeat, tmp),
            "text-dedup": lambda: run_text_dedup(corpus, args.workers, args.repeat, tmp),
            "text-dedup-noverify": lambda: run_text_dedup(corpus, args.workers, args.repeat, tmp,
                                                          verify=False),
            "datatrove": lambda: run_datatrove(corpus, args.workers, args.repeat, tmp),
        }
        for tool in tools:
            if tool not in runners:
                parser.error(f"unknown tool {tool!r}; choose from {', '.join(runners)}")
            print(f"  running {tool} ...", file=sys.stderr, flush=True)
            results["tools"][tool] = runners[tool]()

    report(results, corpus, planted)
    if args.json:
        serial = json.loads(json.dumps(results, default=str))
        for r in serial["tools"].values():
            if "removed_ids" in r:
                r["removed"] = len(r["removed_ids"])
        args.json.write_text(json.dumps(serial, indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def report(results: dict, corpus, planted: list[dict]) -> None:
    tools = results["tools"]
    planted_ids = {d["id"] for d in planted}
    dedup_s = tools.get("dedup", {}).get("seconds")
    headers = ["tool", "version", "wall s", "MB/s", "peak RSS MB", "tree RSS MB", "removed",
               "planted recall", "dedup faster by", "note"]
    rows = []
    for name, r in tools.items():
        if "removed_ids" not in r:
            rows.append([name, r.get("version"), r.get("seconds"), None, None, None, None, None, None,
                         r.get("unavailable") or r.get("error")])
            continue
        removed = set(r["removed_ids"])
        recall = len(removed & planted_ids) / len(planted_ids) if planted_ids else None
        note = r.get("note", "")
        if r.get("cores_used") == 1:
            note = ("single process; " + note).strip("; ")
        rows.append([name, r.get("version"), r["seconds"], corpus.n_bytes / 1e6 / r["seconds"],
                     r["peak_rss_kb"] / 1024, r["peak_tree_rss_kb"] / 1024, len(removed), recall,
                     (r["seconds"] / dedup_s) if dedup_s and name != "dedup" else None, note])
    print(table.render(headers, rows, right={2, 3, 4, 5, 6, 7, 8}))

    names = [n for n, r in tools.items() if "removed_ids" in r]
    if len(names) >= 2:
        print("\nagreement on removed documents (Jaccard of removed-id sets):")
        sets = {n: set(tools[n]["removed_ids"]) for n in names}
        agreement = {}
        rows = []
        for a in names:
            row = [a]
            for b in names:
                union = sets[a] | sets[b]
                j = len(sets[a] & sets[b]) / len(union) if union else 1.0
                row.append(j)
                agreement[f"{a}|{b}"] = j
            rows.append(row)
        print(table.render(["", *names], rows))
        results["agreement"] = agreement
        for name in names:
            r = tools[name]
            r["planted_recall"] = len(sets[name] & planted_ids) / len(planted_ids) if planted_ids else None


if __name__ == "__main__":
    sys.exit(main())
