"""Language: which language a document is written in, and which rules hold for it.

A document's language is a pure function of its text (or the ``language`` setting when it is not
``"auto"``), so every engine and every stage agrees on it. It is decided by script first: kana
makes Japanese, Hangul Korean, Han without kana Chinese, Thai Thai, Cyrillic Russian, Greek
Greek; Latin text is scored by the share of its words that are the most frequent function words
of each language Punkt has parameters for. English is the answer whenever the evidence is weak,
so English text is never treated as anything else.

The language picks the Punkt parameters that cut sentences (German for German, ...; English
parameters plus the CJK sentence ends for the languages Punkt has no model of) and gates the
rules that only hold in English: lower-case splice detection, the dehyphenation lexicon and the
caption patterns are English only; in scripts without letter case (Chinese, Japanese, Korean,
Thai) the glued-boundary, unwrapping and quote-spacing repairs are off too, since they insert
spaces that these scripts do not use. Matching keys do not depend on the language at all (see
:func:`dedup.fingerprint.shingle_mode`).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dedup.config import DedupConfig

__all__ = ["LANGUAGES", "detect_language", "document_language", "config_for_language", "language_config",
           "language_fields", "UNCASED", "punkt_model", "FUNCTION_WORDS", "has_function_word"]

#: Languages whose words are scored in Latin text, with their most frequent function words
#: (short closed-class words; words shared by several languages count for each).
_STOP_WORDS = {
    "english": "the of and to in is that for it was on with as be by at this are from have not but "
               "or an they which you his her had has were their been we would will there who",
    "german": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch "
              "es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über "
              "einen so zum war haben nur oder aber vor zur bis mehr durch man",
    "french": "le la les de des et en un une du est que qui dans pour pas au sur par ce il elle sont "
              "avec plus se ne ou son sa ses aux nous vous mais été cette leur comme être",
    "spanish": "el la los las de del y en un una es que por con para se no su al lo como más pero sus "
               "le ya o este fue ha sí porque esta entre cuando muy sin sobre también",
    "italian": "il di che è la e per un una in non sono della del si le con da al gli nel alla dei "
               "delle ma come più anche questo questa ha lo ci",
    "portuguese": "o a os as de do da dos das e em um uma que para com não no na por se mais mas ao "
                  "foi pelo pela como são também seu sua",
    "dutch": "de het een en van in is dat op te zijn voor met die niet aan er om ook als bij maar dan "
             "wat wordt nog door naar werd deze heeft",
    "polish": "i w na z że się nie do to jest o jak a od po za przez ale dla są jego tym co",
    "czech": "a v se na je že s z do o to i k jsou by jako ale za od po pro jeho který která které",
    "swedish": "och i att det som en på är av för med till den har inte om ett var jag men från de",
    "danish": "og i at det som en på er af for med til den har ikke om et var jeg men fra de",
    "norwegian": "og i at det som en på er av for med til den har ikke om et var jeg men fra de ble",
    "finnish": "ja on ei se että oli hän mutta kun niin tai ovat myös joka sen jo kuin",
    "turkish": "ve bir bu da de için ile olarak daha çok gibi en ama olan ne kadar sonra",
}
# (Words of one letter are left out: ``a``, ``i``, ``s``, ``o`` are initials as often as words.)
_WORDS_OF = {language: frozenset(w for w in words.split() if len(w) > 1) for language, words in _STOP_WORDS.items()}
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _language, _words in _WORDS_OF.items():
    for _word in _words:
        _LANGUAGES_OF[_word] = (*_LANGUAGES_OF.get(_word, ()), _language)

#: The function words of every language above (lower case): what prose has and a command,
#: a name or a table cell does not.
FUNCTION_WORDS = frozenset(_LANGUAGES_OF)
_PUNCTUATION = ".,;:!?()[]\"'«»“”‘’„"


def has_function_word(text: str) -> bool:
    """Whether ``text`` holds a function word (:data:`FUNCTION_WORDS`) as a word of its own:
    prose does; a command (``apt-mark hold package_name``, ``log /var/log/dpkg.log``), a name or
    a menu does not.

    >>> has_function_word("and remove the hold with"), has_function_word("apt-get source foo")
    (True, False)
    """
    return any(token.strip(_PUNCTUATION) in FUNCTION_WORDS for token in text.lower().split())

#: Every language name the ``language`` setting accepts (besides ``"auto"``).
LANGUAGES = tuple(sorted(set(_STOP_WORDS) | {"chinese", "japanese", "korean", "thai", "russian", "greek",
                                              "estonian", "slovene", "malayalam"}))

#: Languages written without letter case and (but Korean) without spaces between words.
UNCASED = frozenset({"chinese", "japanese", "korean", "thai"})

_SAMPLE = 5_000  # characters of a document that decide its language
_KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9d]")  # (not ・)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_OTHER_SCRIPTS = re.compile("|".join(p.pattern for p in (_KANA, _HAN, _HANGUL, _THAI, _CYRILLIC, _GREEK)))
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# Latin text is another language than English only on this much evidence: enough function
# words, a share of the words like a real text's, and clearly more than English's.
_MIN_WORDS = 12
_MIN_HITS = 6
_MIN_SHARE = 0.15
_MARGIN = 2.0


def detect_language(text: str) -> str:
    """The language of ``text`` by script, then by function words; ``"english"`` when unsure.

    >>> detect_language("Der Bundestag hat am Donnerstag über das neue Gesetz für die Bahn abgestimmt.")
    'german'
    >>> detect_language("東京で大きな火事がありました。")
    'japanese'
    >>> detect_language("It exploded on Sept. 25, 2023.")
    'english'
    """
    sample = text[:_SAMPLE]
    if sample.isascii() or not _OTHER_SCRIPTS.search(sample):
        return _latin_language(sample)  # (what the counts below would conclude)
    kana, han = len(_KANA.findall(sample)), len(_HAN.findall(sample))
    if kana + han and kana + han >= len(_LATIN_WORD.findall(sample)):
        # A character of these scripts against a word of Latin ones (technical Chinese and
        # Japanese are full of Latin names and commands); Japanese is never without kana.
        return "japanese" if 10 * kana >= kana + han else "chinese"
    counts = {
        "hangul": len(_HANGUL.findall(sample)),
        "thai": len(_THAI.findall(sample)),
        "cyrillic": len(_CYRILLIC.findall(sample)),
        "greek": len(_GREEK.findall(sample)),
        "latin": len(_LATIN.findall(sample)),
    }
    script = max(counts, key=lambda k: counts[k])
    if counts[script] == 0 or script == "latin":
        return _latin_language(sample)
    return {"hangul": "korean", "thai": "thai", "cyrillic": "russian", "greek": "greek"}[script]


def _latin_language(sample: str) -> str:
    found = _WORD.findall(sample.lower())
    total = len(found)
    if total < _MIN_WORDS:
        return "english"
    scores = dict.fromkeys(_WORDS_OF, 0)
    distinct = dict.fromkeys(_WORDS_OF, 0)
    counts = Counter(found)
    # (Function words have two letters or more: a, o, e, y are words of many languages and of
    # junk, not evidence.)
    for word in counts.keys() & _LANGUAGES_OF.keys():
        for language in _LANGUAGES_OF[word]:
            scores[language] += counts[word]
            distinct[language] += 1
    best = max(sorted(scores), key=lambda k: scores[k])
    # Evidence is several different function words (a text repeating two short words is not
    # written in a language; cleaning it must not flip its language and so its rules).
    if (best == "english" or distinct[best] < 4 or scores[best] < _MIN_HITS or scores[best] < _MIN_SHARE * total
            or scores[best] < _MARGIN * scores["english"]):
        return "english"
    return best


def document_language(text: str, setting: str = "auto") -> str:
    """The language a document is treated as: ``setting`` unless it is ``"auto"``.

    >>> document_language("Le chat dort.", "french")
    'french'
    """
    return detect_language(text) if setting == "auto" else setting


def punkt_model(language: str) -> str:
    """The Punkt parameters a language's sentences are cut with (English where Punkt has none).

    >>> punkt_model("german"), punkt_model("japanese")
    ('german', 'english')
    """
    return language if language in _PUNKT_MODELS else "english"


_PUNKT_MODELS = frozenset({"czech", "danish", "dutch", "english", "estonian", "finnish", "french", "german",
                           "greek", "italian", "malayalam", "norwegian", "polish", "portuguese", "russian",
                           "slovene", "spanish", "swedish", "turkish"})


def config_for_language(text: str, config: DedupConfig) -> DedupConfig:
    """The config one document runs with: its language resolved (so it is decided once, on the
    text given here: resolving a resolved config changes nothing) and the rules that do not hold
    in that language turned off. English keeps every rule.

    >>> from dedup.config import DedupConfig
    >>> config_for_language("Die Bahn fährt nicht, weil es in der Nacht auf den Gleisen einen Unfall gab.",
    ...                     DedupConfig()).repair.split_splices
    False
    """
    return language_config(document_language(text, config.segment.language), config)


def language_config(language: str, config: DedupConfig) -> DedupConfig:
    """The config of a document found to be in ``language`` (as :func:`config_for_language`
    resolved it: a document prepared once keeps its language through every later stage).

    >>> from dedup.config import DedupConfig
    >>> language_config("german", DedupConfig()).segment.language
    'german'
    """
    if language == config.segment.language == "english":
        return config
    return _resolved(config, language)


@functools.lru_cache(maxsize=64)
def _resolved(config: DedupConfig, language: str) -> DedupConfig:
    if language == "english":
        return dataclasses.replace(config, segment=dataclasses.replace(config.segment, language=language))
    repair: dict[str, Any] = {"split_splices": False, "dehyphenate": False}
    if language in UNCASED:
        repair.update(split_glued=False, quote_space=False, unwrap_lines=False, rejoin_paragraphs=False)
    return dataclasses.replace(
        config,
        repair=dataclasses.replace(config.repair, **{k: v and getattr(config.repair, k) for k, v in repair.items()}),
        segment=dataclasses.replace(config.segment, language=language),
        policy=dataclasses.replace(config.policy, captions="keep"),
    )


def language_fields(text: str, setting: str | None = "auto") -> dict[str, str]:
    """What the report records of a document's language: the language and the shingles its
    matching key is cut into (``words``, ``characters`` or ``mixed``). With ``setting`` None (a
    run where no rule depends on the language, such as document mode) only the shingles.

    >>> language_fields("火事がありました。")
    {'language': 'japanese', 'shingles': 'characters'}
    >>> language_fields("火事がありました。", None)
    {'shingles': 'characters'}
    """
    from dedup.fingerprint import shingle_mode

    if setting is None:
        return {"shingles": shingle_mode(text)}
    return {"language": document_language(text, setting), "shingles": shingle_mode(text)}
