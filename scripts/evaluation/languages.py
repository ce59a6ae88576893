"""Beyond English: dedup on German, French, Japanese and Chinese text (and English as the control).

Source: the Debian Reference 2.100 (Osamu Aoki et al., GPL-2+) as Debian packages it in each
language (``debian-reference-{en,de,fr,ja,zh-cn}``, fetched with ``apt-get download``, never
installed). The translations are parallel: paragraph ``k`` of every chapter says the same thing
in every language, so one seeded edit plan applies to all of them and the figures compare.
Paragraphs a translation left in English (equal to the English one) are dropped, as are
non-prose paragraphs (too short, or not ending like a sentence). Documents are three
consecutive prose paragraphs of a chapter; the held-out part (:func:`held_out` on the id) is
scored, the rest is never looked at.

Faults are seeded and recorded:

* ``repeated_sentence``: the last sentence of a paragraph (found by a conservative rule: an
  ideographic full stop, or a period after a lower-case word of three letters or more before a
  capital) is appended to the document's last paragraph. Fixed when the output is the original.
* ``glued_boundary`` (cased languages): the space of one such boundary is deleted. Fixed when the
  output is the original.
* near-duplicate documents (corpus mode, ``Deduplicator``): a copy of each document with one word
  in ``EDIT_EVERY`` replaced by another of the same document (a CJK "word" is two characters).
  Recall: copies dropped as duplicates of their original; false drops: documents dropped as
  duplicates of a document they were not made from.
* clean documents: the originals through :func:`dedup.clean`; a changed document is a false
  change, words removed are false drops.
* language detection: the share of documents detected as their language.
"""

from __future__ import annotations

import html
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sources import RegistrySpec, fetch_registry_package, held_out

#: The languages scored, with the Debian package suffix of their translation.
LANGUAGE_CODES = {"english": "en", "german": "de", "french": "fr", "japanese": "ja", "chinese": "zh-cn"}
CASELESS = frozenset({"japanese", "chinese"})
VERSION = "2.100"
LICENCE = "GPL-2+ (Debian Reference, Osamu Aoki and translators; debian/copyright)"
EDIT_EVERY = 50  # one word in this many is replaced in a near-duplicate copy
PARAGRAPHS_PER_DOC = 3


def spec(language: str) -> RegistrySpec:
    """The Debian package of one language's Debian Reference."""
    code = LANGUAGE_CODES[language]
    return RegistrySpec(
        name=f"debref-{code}", genre=f"system administration guide ({language})", registry="apt",
        package=f"debian-reference-{code}", version=VERSION,
        member=f"usr/share/debian-reference/ch*.{code}.html", licence=LICENCE,
    )


_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e\u3000-\u303f"
_CJK_JOIN = re.compile(rf"(?<=[{_CJK}])\s*\n\s*|\s*\n\s*(?=[{_CJK}])")


def chapter_paragraphs(page: str) -> list[str]:
    """The paragraphs of one HTML chapter as single lines (CJK lines joined without a space)."""
    result = []
    for match in _PARAGRAPH.finditer(page):
        text = html.unescape(_TAG.sub("", match.group(1)))
        text = _CJK_JOIN.sub("", text.strip())
        result.append(" ".join(text.split()))
    return result


def load_chapters(language: str, cache: Path) -> dict[str, list[str]]:
    """Each chapter's paragraphs, by chapter name."""
    root = fetch_registry_package(spec(language), cache) / "usr/share/debian-reference"
    code = LANGUAGE_CODES[language]
    return {path.name.split(".")[0]: chapter_paragraphs(path.read_text(encoding="utf-8"))
            for path in sorted(root.glob(f"ch*.{code}.html"))}


_ENDS = re.compile(r"[.!?。！？][」』）)\"”»]?$")


def is_prose(paragraph: str, language: str) -> bool:
    """A paragraph of running text: long enough and ending like a sentence."""
    minimum = 40 if language in CASELESS else 80
    return len(paragraph) >= minimum and _ENDS.search(paragraph) is not None


@dataclass(frozen=True)
class LangDoc:
    """A document of one language: its id (the same in every language) and paragraphs."""

    doc_id: str
    language: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def documents(cache: Path, split: str = "test") -> dict[str, list[LangDoc]]:
    """The documents of one part (``test``: held out; ``tune``: the rest) of every language,
    aligned: the same ids in each."""
    chapters = {language: load_chapters(language, cache) for language in LANGUAGE_CODES}
    english = chapters["english"]
    result: dict[str, list[LangDoc]] = {language: [] for language in LANGUAGE_CODES}
    for chapter, english_paragraphs in english.items():
        if any(len(chapters[lang].get(chapter, ())) != len(english_paragraphs) for lang in LANGUAGE_CODES):
            continue  # not aligned: skipped in every language
        usable = [k for k in range(len(english_paragraphs))
                  if all(is_prose(chapters[lang][chapter][k], lang) for lang in LANGUAGE_CODES)
                  and all(lang == "english" or chapters[lang][chapter][k] != english_paragraphs[k]
                          for lang in LANGUAGE_CODES)]
        for first in range(0, len(usable) - PARAGRAPHS_PER_DOC + 1, PARAGRAPHS_PER_DOC):
            picked = usable[first : first + PARAGRAPHS_PER_DOC]
            doc_id = f"debref:{chapter}:{picked[0]}"
            if held_out(doc_id) != (split == "test"):
                continue
            for language in LANGUAGE_CODES:
                paragraphs = tuple(chapters[language][chapter][k] for k in picked)
                result[language].append(LangDoc(doc_id, language, paragraphs))
    return result


# Sentence boundaries we are sure of (the ground truth for seeding): an ideographic end, or a
# period, ! or ? after a lower-case word of three letters or more, then a space and a capital.
_SURE_CJK = re.compile(r"(?<=[。！？])(?=[^」』）)\"”。！？])")
_SURE_CASED = re.compile(r"(?<=[a-zäöüßéèàùâêîôûç]{3}[.!?]) (?=[A-ZÄÖÜÉÈÀÂÊÎÔÛÇ])")


def sure_boundaries(paragraph: str, language: str) -> list[int]:
    """Offsets in ``paragraph`` where a sentence surely ends (for CJK, where the next starts)."""
    pattern = _SURE_CJK if language in CASELESS else _SURE_CASED
    return [m.start() for m in pattern.finditer(paragraph) if 0 < m.start() < len(paragraph)]


def repeated_sentence(doc: LangDoc, rng: random.Random) -> str | None:
    """The document with the last sentence of one paragraph appended to its last paragraph."""
    options = []
    for k, paragraph in enumerate(doc.paragraphs):
        cuts = sure_boundaries(paragraph, doc.language)
        if cuts:
            sentence = paragraph[cuts[-1]:].strip()
            if len(sentence) >= (15 if doc.language in CASELESS else 50) and sentence[-1] in ".!?。！？":
                options.append((k, sentence))
    if not options:
        return None
    _, sentence = rng.choice(options)
    paragraphs = list(doc.paragraphs)
    paragraphs[-1] += ("" if doc.language in CASELESS else " ") + sentence
    return "\n\n".join(paragraphs)


def glued_boundary(doc: LangDoc, rng: random.Random) -> str | None:
    """The document with the space of one sure sentence boundary deleted (cased languages)."""
    if doc.language in CASELESS:
        return None
    options = [(k, cut) for k, p in enumerate(doc.paragraphs) for cut in sure_boundaries(p, doc.language)]
    if not options:
        return None
    k, cut = rng.choice(options)
    paragraphs = list(doc.paragraphs)
    paragraphs[k] = paragraphs[k][:cut] + paragraphs[k][cut + 1 :]
    return "\n\n".join(paragraphs)


_LATIN_WORD = re.compile(r"[^\W\d_]{2,}")
_CJK_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{2}")


def near_copy(doc: LangDoc, edits: int, rng: random.Random) -> str:
    """A copy of the document with ``edits`` words replaced by other words of it (a CJK word is
    two characters)."""
    text = doc.text
    words = list((_CJK_WORD if doc.language in CASELESS else _LATIN_WORD).finditer(text))
    if len(words) < 2:
        return text
    chosen = sorted(rng.sample(range(len(words)), min(edits, len(words))), reverse=True)
    for index in chosen:
        match = words[index]
        other = rng.choice(words).group()
        text = text[: match.start()] + other + text[match.end() :]
    return text


def edits_for(doc: LangDoc, english: LangDoc) -> int:
    """The edits of a near-duplicate copy: one per EDIT_EVERY words of the English original, so
    the aligned documents of every language get the same number."""
    return max(1, len(_LATIN_WORD.findall(english.text)) // EDIT_EVERY)


def _seeded(seed: int, *parts: str) -> random.Random:
    return random.Random(seed * 1_000_003 + zlib.crc32(":".join(parts).encode("utf-8")))


def evaluate_languages(cache: Path, per_language: int | None, seed: int,
                       log: Callable[[str], None] = print) -> dict[str, Any]:
    """Score dedup on every language; ``per_language`` documents each (None: all held out)."""
    import dedup
    from dedup.language import detect_language

    docs = documents(cache)
    english_by_id = {d.doc_id: d for d in docs["english"]}
    results: dict[str, Any] = {"source": {language: {"package": spec(language).package, "version": VERSION,
                                                      "licence": LICENCE} for language in LANGUAGE_CODES}}
    for language, all_docs in docs.items():
        picked = all_docs if per_language is None else all_docs[:per_language]
        log(f"languages: {language} ({len(picked)} documents)")
        row: dict[str, Any] = {"documents": len(picked)}
        row["detected"] = _share(detect_language(d.text) == language for d in picked)
        changed = removed_words = words = 0
        for doc in picked:
            output = dedup.clean(doc.text)
            changed += output != doc.text
            before, after = _tokens(doc.text, language), _tokens(output, language)
            words += len(before)
            removed_words += max(0, len(before) - len(after))
        row["clean_changed"] = changed
        if language in PROTECTED:
            row["abbreviations"] = _abbreviations(picked, PROTECTED[language])
        row["clean_words_removed_per_1000"] = round(1000 * removed_words / max(words, 1), 3)
        for fault, make in (("repeated_sentence", repeated_sentence), ("glued_boundary", glued_boundary)):
            fixed = total = 0
            for doc in picked:
                faulty = make(doc, _seeded(seed, fault, doc.doc_id))
                if faulty is None:
                    continue
                total += 1
                fixed += dedup.clean(faulty) == doc.text
            if total:
                row[fault] = {"fixed": fixed, "of": total, "rate": round(fixed / total, 3)}
        row["near_duplicates"] = _near_duplicates(picked, english_by_id, seed)
        results[language] = row
    return results


def _near_duplicates(picked: Sequence[LangDoc], english_by_id: dict[str, LangDoc], seed: int) -> dict[str, Any]:
    import dedup

    corpus: list[dedup.Document] = []
    for doc in picked:
        corpus.append(dedup.Document(doc.doc_id, doc.text))
    for doc in picked:
        edits = edits_for(doc, english_by_id[doc.doc_id])
        corpus.append(dedup.Document(doc.doc_id + ":copy", near_copy(doc, edits, _seeded(seed, "near", doc.doc_id))))
    result = dedup.Deduplicator(mode_documents_only()).run(corpus)
    found = false_drops = 0
    for item in result.documents:
        if item.duplicate_of is None:
            continue
        if item.id.endswith(":copy") and item.duplicate_of == item.id[: -len(":copy")]:
            found += 1
        else:
            false_drops += 1
    return {"copies": len(picked), "found": found, "recall": round(found / max(len(picked), 1), 3),
            "false_drops": false_drops}


def mode_documents_only() -> Any:
    """Document-level dedup alone (what the near-duplicate figures measure)."""
    from dedup.config import DedupConfig

    return DedupConfig().replace(
        fix_encoding=False, split_glued=False, split_splices=False, quote_space=False, unwrap_lines=False,
        dehyphenate=False, rejoin_paragraphs=False, dedup_paragraphs=False, dedup_sentences=False,
        captions="keep", boilerplate="keep",
    )


#: Abbreviations and ordinals that never end a sentence, per language (whole tokens).
PROTECTED = {
    "english": re.compile(r"(?<!\S)(?:e\.g\.|i\.e\.|etc\.(?= [a-z])|Dr\.|Mr\.|No\.)(?=\s)"),
    "german": re.compile(r"(?<!\S)(?:z\. ?B\.|d\. ?h\.|u\. ?a\.|bzw\.|ca\.|Dr\.|Nr\.|vgl\.|usw\.(?= [a-zäöü])"
                         r"|\d{1,2}\.(?= (?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober"
                         r"|November|Dezember|Jan\.|Feb\.|Okt\.|Nov\.|Dez\.|Jahrhundert)))(?=\s)"),
    "french": re.compile(r"(?<!\S)(?:M\.|MM\.|Dr\.|p\. ?ex\.|cf\.|env\.|etc\.(?= [a-zéèà]))(?=\s)"),
}


def _abbreviations(picked: Sequence[LangDoc], pattern: re.Pattern[str]) -> dict[str, int]:
    """How many protected abbreviations the documents hold, and how many a sentence ends at."""
    import dedup

    found = split = 0
    for doc in picked:
        ends = {start + len(sentence) for sentence, start in _located(doc.text, dedup.sentences(doc.text))}
        for match in pattern.finditer(doc.text):
            found += 1
            split += match.end() in ends
    return {"found": found, "sentence_ends": split}


def _located(text: str, sentences: Sequence[str]) -> list[tuple[str, int]]:
    result, at = [], 0
    for sentence in sentences:
        at = text.find(sentence, at)
        if at < 0:
            return result  # (a repair changed the text: no offsets for the rest)
        result.append((sentence, at))
        at += len(sentence)
    return result


def _share(values: Any) -> float:
    flags = list(values)
    return round(sum(flags) / max(len(flags), 1), 3)


def _tokens(text: str, language: str) -> list[str]:
    if language in CASELESS:
        return re.findall(rf"[{_CJK}]|[^\W_]+", text)
    return text.split()


def shingle_jaccards(cache: Path, sizes: Sequence[int], seed: int, per_language: int | None = None,
                     scaled: bool = False, split: str = "test") -> dict[str, Any]:
    """Exact Jaccard of each document and its near-duplicate copy, with shingles of each size
    (``scaled``: of each base size as :func:`dedup.fingerprint.shingle_size_of` scales it): the
    mean and the share at or above 0.8, per language (how a threshold compares)."""
    import numpy as np

    from dedup.fingerprint import document_shingles, key_shingles, normalize_key, sorted_unique

    docs = documents(cache, split)
    english_by_id = {d.doc_id: d for d in docs["english"]}
    table: dict[str, Any] = {}
    for language, all_docs in docs.items():
        picked = all_docs if per_language is None else all_docs[:per_language]
        pairs = [(d.text, near_copy(d, edits_for(d, english_by_id[d.doc_id]), _seeded(seed, "near", d.doc_id)))
                 for d in picked]
        row = {}
        for n in sizes:
            values = []
            for a, b in pairs:
                shingle = document_shingles if scaled else key_shingles
                sa, sb = (sorted_unique(s) for s in shingle([normalize_key(a), normalize_key(b)], n))
                union = len(np.union1d(sa, sb))
                values.append(len(np.intersect1d(sa, sb)) / union if union else 1.0)
            row[n] = {"mean": round(float(np.mean(values)), 3),
                      "at_least_0.8": round(float(np.mean([v >= 0.8 for v in values])), 3)}
        table[language] = row
    return table


def language_table(results: dict[str, Any]) -> str:
    """The per-language table of :func:`evaluate_languages`."""
    lines = ["Languages (Debian Reference 2.100, held-out documents; near-duplicate copies: one word "
             f"in {EDIT_EVERY} replaced)",
             f"{'language':<10} {'docs':>5} {'detected':>8} {'repeated sent.':>15} {'glued bound.':>13} "
             f"{'near-dup recall':>15} {'false drops':>11} {'clean changed':>13} {'words removed/1000':>18} "
             f"{'abbrev. split':>13}"]
    for language in LANGUAGE_CODES:
        row = results.get(language)
        if not row:
            continue

        def fault(name: str, row: dict[str, Any] = row) -> str:
            cell = row.get(name)
            return f"{cell['fixed']}/{cell['of']}" if cell else "n/a"

        near = row["near_duplicates"]
        abbreviations = row.get("abbreviations")
        split = f"{abbreviations['sentence_ends']}/{abbreviations['found']}" if abbreviations else "n/a"
        lines.append(
            f"{language:<10} {row['documents']:>5} {row['detected']:>8.3f} {fault('repeated_sentence'):>15} "
            f"{fault('glued_boundary'):>13} {near['found']:>7}/{near['copies']:<7} {near['false_drops']:>11} "
            f"{row['clean_changed']:>13} {row['clean_words_removed_per_1000']:>18} {split:>13}"
        )
    return "\n".join(lines)
