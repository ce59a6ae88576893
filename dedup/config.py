"""Configuration: one frozen, keyword-only dataclass per stage, composed into :class:`DedupConfig`.

Every setting has one name everywhere: the dataclass field, the keyword override, the CLI flag
(``num_perm`` → ``--num-perm``) and the key in the report. Values are validated when the object
is built, so a bad value fails before any text is read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from dedup.errors import ConfigError
from dedup.language import LANGUAGES

__all__ = [
    "RepairConfig",
    "SegmentConfig",
    "FingerprintConfig",
    "MatchConfig",
    "PolicyConfig",
    "DedupConfig",
    "make_config",
    "CHOICES",
]


#: The values of each setting that takes one of a few words.
CHOICES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "keep": ("first", "longest", "none"),
    "captions": ("auto", "remove", "flag", "keep"),
    "boilerplate": ("remove", "keep_first", "flag", "keep"),
    "language": ("auto", *LANGUAGES),
})


def _check_range(name: str, value: float, low: float, high: float, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        message = f"{name}={value!r} is out of range: expected a number from {low} to {high}"
        raise ConfigError(message + (f" ({hint})" if hint else ""), setting=name)


def _check_choice(name: str, value: str) -> None:
    if value not in CHOICES[name]:
        raise ConfigError(f"{name}={value!r} is not allowed: choose one of {', '.join(CHOICES[name])}",
                          setting=name)


@dataclass(frozen=True, kw_only=True)
class RepairConfig:
    """What the repairer may change. Every repair only inserts whitespace, turns a line break into
    a space, or drops a line-break hyphen; encoding fixes come from ftfy."""

    fix_encoding: bool = True
    split_glued: bool = True
    split_splices: bool = True
    quote_space: bool = True
    unwrap_lines: bool = True
    dehyphenate: bool = True
    rejoin_paragraphs: bool = True

    @property
    def enabled(self) -> bool:
        """Whether any repair (or the encoding fix) is on."""
        return (self.fix_encoding or self.split_glued or self.split_splices or self.quote_space
                or self.unwrap_lines or self.dehyphenate or self.rejoin_paragraphs)


@dataclass(frozen=True, kw_only=True)
class SegmentConfig:
    """How text is cut into paragraphs and sentences (NLTK Punkt), and the language a document is
    treated as (``auto``: detected per document, see :mod:`dedup.language`)."""

    extra_abbreviations: tuple[str, ...] = ()
    language: str = "auto"

    def __post_init__(self) -> None:
        _check_choice("language", self.language)
        for abbreviation in self.extra_abbreviations:
            if not abbreviation or " " in abbreviation.strip():
                raise ConfigError(
                    f"extra_abbreviations contains {abbreviation!r}: give single tokens such as 'Gov'"
                )


@dataclass(frozen=True, kw_only=True)
class FingerprintConfig:
    """How units are normalised and signed. Changing any of these changes which units match."""

    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 5
    unit_shingle_size: int = 3
    fold_digits: bool = False
    fold_punctuation: bool = True

    def __post_init__(self) -> None:
        _check_range("num_perm", self.num_perm, 16, 1024, "more permutations, better estimates")
        if not isinstance(self.num_perm, int):
            raise ConfigError(f"num_perm={self.num_perm!r} must be a whole number", setting="num_perm")
        _check_range("seed", self.seed, 0, 2**32 - 1)
        _check_range("shingle_size", self.shingle_size, 1, 32, "word n-grams for documents")
        _check_range("unit_shingle_size", self.unit_shingle_size, 1, 16, "word n-grams for units")


@dataclass(frozen=True, kw_only=True)
class MatchConfig:
    """When two units or documents count as near duplicates.

    ``threshold`` is the Jaccard similarity of word shingles above which two documents are near
    duplicates; ``unit_threshold`` the same for sentences and paragraphs. ``bands`` and ``rows``
    override the LSH parameters derived from the threshold. A near-duplicate document is removed
    only when at least ``min_containment`` of its words are in the copy kept (else both stay,
    reported as near duplicates: the other holds text the keeper lacks); 0 removes every near
    duplicate found, as MinHash deduplicators usually do.
    """

    threshold: float = 0.8
    unit_threshold: float = 0.8
    min_containment: float = 0.95
    bands: int | None = None
    rows: int | None = None

    def __post_init__(self) -> None:
        _check_range("threshold", self.threshold, 0.05, 1.0, "Jaccard similarity of documents")
        _check_range("unit_threshold", self.unit_threshold, 0.05, 1.0, "Jaccard of sentences")
        _check_range("min_containment", self.min_containment, 0.0, 1.0, "share of a copy's words in its keeper")
        if (self.bands is None) != (self.rows is None):
            raise ConfigError("bands and rows go together: give both or neither")
        if self.bands is not None and self.rows is not None:
            _check_range("bands", self.bands, 1, 1024)
            _check_range("rows", self.rows, 1, 1024)


@dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    """What is removed, what is kept, and what is only flagged.

    Sentences with fewer than ``min_sentence_words`` words are never removed ("He said no."
    may repeat legitimately); sentences with fewer than ``near_min_words`` words are removed
    only when they repeat exactly (after normalisation), never as near duplicates; a number or a
    link counts as one word, and such a short unit that holds a digit (a table row, a link) is
    data, never removed as a repeat.

    Boilerplate (corpus mode) is a line, sentence or paragraph found in at least
    ``boilerplate_min_docs`` documents (0: automatic, ``max(4, 0.1% of the corpus)``) or, when
    ``boilerplate_fraction`` is set, in at least that fraction of them.
    """

    def boilerplate_threshold(self, documents: int) -> int:
        """How many documents a unit must appear in to count as boilerplate.

        >>> PolicyConfig().boilerplate_threshold(10_000)
        10
        """
        if self.boilerplate_min_docs:
            return self.boilerplate_min_docs
        if self.boilerplate_fraction:
            return max(2, math.ceil(self.boilerplate_fraction * documents))
        return max(4, math.ceil(0.001 * documents))

    dedup_paragraphs: bool = True
    dedup_sentences: bool = True
    dedup_documents: bool = True
    keep: str = "first"
    min_sentence_words: int = 4
    near_min_words: int = 8
    captions: str = "auto"
    caption_confidence: float = 0.6
    boilerplate: str = "remove"
    boilerplate_min_docs: int = 0
    boilerplate_fraction: float = 0.0

    def __post_init__(self) -> None:
        _check_choice("keep", self.keep)
        _check_choice("captions", self.captions)
        _check_choice("boilerplate", self.boilerplate)
        _check_range("min_sentence_words", self.min_sentence_words, 1, 1000)
        _check_range("near_min_words", self.near_min_words, 1, 1000)
        _check_range("caption_confidence", self.caption_confidence, 0.0, 1.0)
        _check_range("boilerplate_min_docs", self.boilerplate_min_docs, 0, 10**9, "0 = automatic")
        _check_range("boilerplate_fraction", self.boilerplate_fraction, 0.0, 1.0)


_STAGES = ("repair", "segment", "fingerprint", "match", "policy")


@dataclass(frozen=True, kw_only=True)
class DedupConfig:
    """All settings of a run, one sub-config per stage. Field names are unique across stages, so
    ``DedupConfig().replace(num_perm=256)`` needs no stage prefix.

    >>> DedupConfig().replace(num_perm=256).fingerprint.num_perm
    256
    """

    repair: RepairConfig = field(default_factory=RepairConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    fingerprint: FingerprintConfig = field(default_factory=FingerprintConfig)
    match: MatchConfig = field(default_factory=MatchConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def __post_init__(self) -> None:
        bands, rows, num_perm = self.match.bands, self.match.rows, self.fingerprint.num_perm
        if bands is not None and rows is not None and bands * rows > num_perm:
            raise ConfigError(
                f"bands={bands} x rows={rows} needs {bands * rows} permutations, more than num_perm={num_perm} "
                f"(allowed: bands x rows <= num_perm; lower --bands/--rows or raise --num-perm)"
            )

    def replace(self, **overrides: Any) -> DedupConfig:
        """Return a copy with the named settings changed; unknown names are an error."""
        by_stage: dict[str, dict[str, Any]] = {}
        owners = _field_owners()
        for name, value in overrides.items():
            if name not in owners:
                raise ConfigError(f"unknown setting {name!r}; known settings: {', '.join(sorted(owners))}")
            _check_type(name, value, owners[name])
            by_stage.setdefault(owners[name], {})[name] = value
        changes = {
            stage: dataclasses.replace(getattr(self, stage), **values) for stage, values in by_stage.items()
        }
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Every setting by its one name, for the report."""
        flat: dict[str, Any] = {}
        for stage in _STAGES:
            for name, value in dataclasses.asdict(getattr(self, stage)).items():
                flat[name] = list(value) if isinstance(value, tuple) else value
        return flat


def _check_type(name: str, value: Any, stage: str) -> None:
    """A flag takes True or False (not "false"), a list of words a list (not one string)."""
    kind = dict(zip(_STAGES, (RepairConfig, SegmentConfig, FingerprintConfig, MatchConfig, PolicyConfig)))[stage]
    declared = str({f.name: f.type for f in dataclasses.fields(kind)}[name])
    if declared == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} must be True or False", setting=name)
    if declared.startswith("tuple") and isinstance(value, (str, bytes)):
        raise ConfigError(f"{name}={value!r} must be a list of strings, not one string", setting=name)


def _field_owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for stage, kind in zip(
        _STAGES, (RepairConfig, SegmentConfig, FingerprintConfig, MatchConfig, PolicyConfig)
    ):
        for f in fields(kind):
            assert f.name not in owners, f"setting {f.name} is defined twice"
            owners[f.name] = stage
    return owners


def make_config(config: DedupConfig | None = None, **overrides: Any) -> DedupConfig:
    """The config a public function runs with: ``config`` (or the defaults) plus ``overrides``.

    >>> make_config(threshold=0.9).match.threshold
    0.9
    """
    if config is not None and not isinstance(config, DedupConfig):
        raise ConfigError(f"config must be a DedupConfig, not {type(config).__name__}")
    base = config if config is not None else DedupConfig()
    return base.replace(**overrides) if overrides else base
