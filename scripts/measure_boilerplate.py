"""What corpus mode removes as boilerplate from real wire stories that have none.

Reuters-21578 (ModApte corn split, ``train`` and ``test`` files) from Debian's ``weka`` package
(see ``measure_captions.py`` for the download). Earnings reports share data lines (``Year``,
``Pay March 31``, ``Shr 18 cts vs 15 cts``) that are data, not template text. The script runs
:class:`dedup.Deduplicator` over the stories and prints every distinct text removed as
boilerplate with the number of documents it was removed from.

Usage: ``PYTHONPATH=$PWD python scripts/measure_boilerplate.py [--part test|train|both]``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from measure_captions import CACHE, reuters_articles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("test", "train", "both"), default="test")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()

    import dedup

    parts = ("train", "test") if args.part == "both" else (args.part,)
    stories = [s for part in parts for s in reuters_articles(args.cache, part)]
    result = dedup.Deduplicator().run(stories)
    removed: Counter[str] = Counter()
    documents = 0
    for document in result.documents:
        changes = document.result.changes if document.result is not None else ()
        texts = {c.before.strip() for c in changes if c.kind == "boilerplate_removed"}
        documents += bool(texts)
        removed.update(texts)
    print(json.dumps({"stories": len(stories), "boilerplate_threshold": result.boilerplate_threshold,
                      "boilerplate_units": result.boilerplate_units, "documents_changed": documents,
                      "distinct_texts_removed": len(removed), "removals": sum(removed.values())}))
    for text, count in removed.most_common():
        print(f"{count:5d}  {text[:100]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
