"""The measured in-process stages, and the worker entry point that runs one of them.

Every stage takes the corpus texts and does the work of computing word-5-gram fingerprints for
each document; only the stage's own time is measured (reading the corpus is not).

- ``bound_a``: hash-only bound A. Lower-case, split on whitespace, join each 5-gram into a string,
  ``xxhash.xxh64_intdigest`` it. No MinHash: the cost of merely hashing the shingle strings.
- ``bound_b``: hash-only bound B. Hash each word once with xxh64, then combine 5 consecutive word
  hashes with numpy (multiply-xor over shifted views). No 5-gram strings at all.
- ``datasketch_naive``: ``MinHash(num_perm=128)`` with its default hash (SHA-1, 32 bits) and one
  ``update()`` call per shingle: how datasketch is commonly used.
- ``datasketch_bulk``: ``MinHash.generator`` (the engine of ``MinHash.bulk``; one ``update_batch``
  per document) with ``hashfunc=xxhash.xxh32_intdigest``, default ``affine32`` scheme.
- ``datasketch_bulk_legacy``: the same with ``scheme="legacy"`` (datasketch < 2.0 behaviour).
- ``dedup_signatures``: ``dedup.fingerprint.<func>(texts, config)``, skipped when not importable.
- ``datasketch_pipeline``: a minimal end-to-end document dedup (bulk MinHash + ``MinHashLSH``,
  first seen kept); used by ``bench_peers.py`` as the reference for what datasketch alone does.

Run as a worker: ``python scripts/benchkit/stages.py STAGE --corpus corpus.jsonl`` prints one JSON
line: seconds, CPU seconds, bytes, documents, RSS after loading and peak RSS during the stage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

NUM_PERM = 128
NGRAM = 5
THRESHOLD = 0.8
SEED = 1


def _word_shingles(text: str) -> list[bytes]:
    """Lower-cased words (UTF-8, split on ASCII whitespace), joined into 5-gram byte strings."""
    words = text.lower().encode("utf-8").split()
    if len(words) < NGRAM:
        return [b" ".join(words)] if words else []
    return [b" ".join(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)]


def bound_a(texts: list[str]) -> dict:
    import xxhash

    h = xxhash.xxh64_intdigest
    n = 0
    acc = 0
    for text in texts:
        words = text.lower().encode("utf-8").split()
        hashes = [h(b" ".join(words[i:i + NGRAM])) for i in range(len(words) - NGRAM + 1)]
        n += len(hashes)
        if hashes:
            acc ^= min(hashes)
    return {"shingles": n, "check": acc & 0xFFFF}


def bound_b(texts: list[str]) -> dict:
    import numpy as np
    import xxhash

    h = xxhash.xxh64_intdigest
    mult = np.uint64(0x9E3779B97F4A7C15)
    n = 0
    acc = 0
    for text in texts:
        words = text.lower().encode("utf-8").split()
        count = len(words) - NGRAM + 1
        if count <= 0:
            continue
        wh = np.fromiter(map(h, words), dtype=np.uint64, count=len(words))
        combined = wh[:count].copy()
        for k in range(1, NGRAM):
            combined *= mult
            combined ^= wh[k:k + count]
        n += count
        acc ^= int(combined.min())
    return {"shingles": n, "check": acc & 0xFFFF}


def _stack(minhashes, n_docs: int, dtype) -> object:
    import numpy as np

    out = np.empty((n_docs, NUM_PERM), dtype=dtype)
    for i, m in enumerate(minhashes):
        out[i] = m.hashvalues
    return out


def datasketch_naive(texts: list[str]) -> dict:
    import numpy as np
    from datasketch import MinHash

    out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
    for i, text in enumerate(texts):
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        for s in _word_shingles(text):
            m.update(s)
        out[i] = m.hashvalues
    return {"signature_bytes": int(out.nbytes)}


def _datasketch_bulk(texts: list[str], scheme: str) -> dict:
    import numpy as np
    import xxhash
    from datasketch import MinHash

    dtype = np.uint64 if scheme == "legacy" else np.uint32
    gen = MinHash.generator((_word_shingles(t) for t in texts), num_perm=NUM_PERM, seed=SEED,
                            hashfunc=xxhash.xxh32_intdigest, scheme=scheme)
    out = _stack(gen, len(texts), dtype)
    return {"signature_bytes": int(out.nbytes)}


def datasketch_bulk(texts: list[str]) -> dict:
    return _datasketch_bulk(texts, "affine32")


def datasketch_bulk_legacy(texts: list[str]) -> dict:
    return _datasketch_bulk(texts, "legacy")


def load_dedup_fingerprint(func_name: str):
    """``(module, function)`` from ``dedup.fingerprint``, or raise ImportError saying why."""
    try:
        module = importlib.import_module("dedup.fingerprint")
    except Exception as err:  # noqa: BLE001 - any failure means "not available yet"
        raise ImportError(f"dedup.fingerprint not importable ({type(err).__name__}: {err})") from err
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ImportError(f"dedup.fingerprint has no function {func_name}()")
    return module, func


def _fingerprint_config():
    from dedup.config import FingerprintConfig

    return FingerprintConfig(num_perm=NUM_PERM, shingle_size=NGRAM, seed=SEED)


def _takes_texts(func) -> bool:
    import inspect

    first = next(iter(inspect.signature(func).parameters), "")
    return first in ("texts", "documents", "docs", "text_batch")


def dedup_signatures(texts: list[str], func_name: str = "signatures") -> dict:
    """dedup's text -> signature path. If ``func`` takes texts, it is called as
    ``func(texts, config)``; if it takes shingle sets (``signatures(shingle_sets, num_perm, seed)``),
    the path is composed from the module's public steps: ``key_for`` -> ``tokens`` ->
    ``word_hashes`` -> ``shingle_hashes`` -> ``func``, and both halves are timed."""
    module, func = load_dedup_fingerprint(func_name)
    config = _fingerprint_config()
    if _takes_texts(func):
        sigs = func(texts, config)
        parts = {}
    else:
        t0 = time.perf_counter()
        key_for, tokens = module.key_for, module.tokens
        word_hashes, shingle_hashes = module.word_hashes, module.shingle_hashes
        n = config.shingle_size
        sets = [shingle_hashes(word_hashes(tokens(key_for(t, config))), n) for t in texts]
        t1 = time.perf_counter()
        sigs = func(sets, config.num_perm, config.seed)
        t2 = time.perf_counter()
        parts = {"shingle_seconds": round(t1 - t0, 4), "minhash_seconds": round(t2 - t1, 4),
                 "shingles": int(sum(len(s) for s in sets))}
    shape = getattr(sigs, "shape", None)
    return {"signature_shape": list(shape) if shape else None,
            "signature_bytes": int(getattr(sigs, "nbytes", 0)), **parts}


def check_dedup_identical(texts: list[str], func_name: str = "signatures", sample: int = 50) -> str:
    """Do dedup's signatures equal ``datasketch.MinHash`` (default scheme) fed the same shingle
    hashes through an identity ``hashfunc``? Checked on the first ``sample`` documents."""
    import numpy as np
    from datasketch import MinHash

    module, func = load_dedup_fingerprint(func_name)
    if _takes_texts(func) or not hasattr(module, "shingle_hashes"):
        return "not checked (text-level function)"
    config = _fingerprint_config()
    sets = [module.shingle_hashes(module.word_hashes(module.tokens(module.key_for(t, config))),
                                  config.shingle_size) for t in texts[:sample]]
    ours = func(sets, config.num_perm, config.seed)
    for row, shingles in zip(ours, sets):
        m = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=int)
        m.update_batch(shingles.tolist())
        if not np.array_equal(np.asarray(m.hashvalues, dtype=np.uint32), row):
            return f"DIFFERENT from datasketch {m.scheme} (first {len(sets)} docs)"
    return f"bit-identical to datasketch affine32 ({len(sets)} docs)"


def datasketch_pipeline(texts: list[str], ids: list[str], bands: int = 9, rows: int = 13) -> dict:
    """Minimal document dedup: bulk MinHash, LSH (b x r), keep the first of each duplicate pair."""
    import xxhash
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=NUM_PERM, params=(bands, rows))
    removed = []
    gen = MinHash.generator((_word_shingles(t) for t in texts), num_perm=NUM_PERM, seed=SEED,
                            hashfunc=xxhash.xxh32_intdigest)
    from datasketch import LeanMinHash

    for doc_id, m in zip(ids, gen):
        if lsh.query(m):
            removed.append(doc_id)
        else:
            lsh.insert(doc_id, LeanMinHash(m))
    return {"removed_ids": removed}


STAGES = {
    "bound_a": bound_a,
    "bound_b": bound_b,
    "datasketch_naive": datasketch_naive,
    "datasketch_bulk": datasketch_bulk,
    "datasketch_bulk_legacy": datasketch_bulk_legacy,
    "dedup_signatures": dedup_signatures,
    "datasketch_pipeline": datasketch_pipeline,
}


def load_corpus(path: Path, limit_bytes: int | None) -> tuple[list[str], list[str], int]:
    ids, texts, total = [], [], 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            size = len(record["text"].encode("utf-8"))
            if limit_bytes is not None and texts and total + size > limit_bytes:
                break
            ids.append(record["id"])
            texts.append(record["text"])
            total += size
    return ids, texts, total


def main() -> None:
    from measure import proc_status_kb, reset_peak_rss

    parser = argparse.ArgumentParser(description="Run one benchmark stage in this process.")
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--limit-bytes", type=int, default=None)
    parser.add_argument("--dedup-func", default="signatures")
    parser.add_argument("--removed-out", type=Path, default=None)
    parser.add_argument("--bands", type=int, default=9)
    parser.add_argument("--rows", type=int, default=13)
    args = parser.parse_args()

    ids, texts, n_bytes = load_corpus(args.corpus, args.limit_bytes)
    kwargs: dict = {}
    if args.stage == "dedup_signatures":
        try:
            load_dedup_fingerprint(args.dedup_func)
            identical = check_dedup_identical(texts, args.dedup_func)
        except ImportError as err:
            print(json.dumps({"unavailable": str(err)}))
            return
        except Exception as err:  # noqa: BLE001
            identical = f"check failed: {type(err).__name__}: {err}"
        kwargs["func_name"] = args.dedup_func
    if args.stage == "datasketch_pipeline":
        kwargs.update(ids=ids, bands=args.bands, rows=args.rows)
    import gc

    import datasketch  # noqa: F401  - imports are not part of any stage's time or memory
    import numpy  # noqa: F401
    import xxhash  # noqa: F401

    gc.collect()
    rss_loaded = proc_status_kb("VmRSS")
    hwm_reset = reset_peak_rss()
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = STAGES[args.stage](texts, **kwargs)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    hwm = proc_status_kb("VmHWM")
    removed = result.pop("removed_ids", None)
    if removed is not None:
        result["removed"] = len(removed)
        if args.removed_out:
            args.removed_out.write_text("".join(f"{i}\n" for i in removed), encoding="utf-8")
    if args.stage == "dedup_signatures":
        result["identical"] = identical
    print(json.dumps({
        "stage": args.stage, "seconds": seconds, "cpu_seconds": cpu, "bytes": n_bytes,
        "docs": len(texts), "rss_loaded_kb": rss_loaded,
        "stage_peak_kb": hwm if hwm_reset else None, "process_peak_kb": hwm, **result,
    }))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
