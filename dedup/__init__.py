"""dedup: find repeated sentences, paragraphs and boilerplate, repair what scrapers broke, and
hand back clean text with an exact account of every change.

>>> import dedup
>>> dedup.clean("The blast was heard.It shook the town. The blast was heard in the town.")
'The blast was heard. It shook the town. The blast was heard in the town.'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dedup.config import DedupConfig, make_config
from dedup.document import Change, CleanResult, Document, Flag
from dedup.errors import ConfigError, DedupError, InputError, OutputError

if TYPE_CHECKING:
    from dedup.deduplicator import Deduplicator

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "clean",
    "clean_and_explain",
    "sentences",
    "Deduplicator",
    "DedupConfig",
    "Document",
    "Change",
    "Flag",
    "CleanResult",
    "DedupError",
    "ConfigError",
    "InputError",
    "OutputError",
]


def _check_text(text: Any) -> str:
    if isinstance(text, (bytes, bytearray)):
        raise InputError(
            "dedup works on text, not bytes: decode it first, e.g. data.decode('utf-8', "
            "errors='replace'); ftfy inside dedup then repairs any mojibake"
        )
    if not isinstance(text, str):
        raise InputError(f"expected text (str), got {type(text).__name__}")
    return text


def clean_and_explain(text: str, config: DedupConfig | None = None, **overrides: Any) -> CleanResult:
    """Clean one document and return the text with every change and flag.

    Args:
        text: the document.
        config: settings; defaults to ``DedupConfig()``.
        **overrides: any setting by name, e.g. ``unit_threshold=0.9``.

    Returns:
        A :class:`CleanResult`; replaying ``result.changes`` on ``text`` gives ``result.text``.

    >>> result = clean_and_explain("It rained.The roads flooded.")
    >>> [(c.kind, c.start, c.before, c.after) for c in result.changes]
    [('boundary_split', 10, '', ' ')]
    """
    from dedup.pipeline import explain_text

    return explain_text(_check_text(text), make_config(config, **overrides))


def clean(text: str, config: DedupConfig | None = None, **overrides: Any) -> str:
    """Clean one document: repair it and drop repeated paragraphs and sentences.

    >>> clean("Prices rose. Prices rose again today in the city.\\n\\nPrices rose again today in the city.")
    'Prices rose. Prices rose again today in the city.'
    """
    return clean_and_explain(text, config, **overrides).text


def sentences(text: str, config: DedupConfig | None = None, **overrides: Any) -> list[str]:
    """Split a document into sentences, after repair, exactly as dedup does for its sentence units.

    The text is repaired first (glued sentences split, wrapped lines joined; see :func:`clean`),
    then cut by Punkt and dedup's rules for lists, ellipses, quotations and abbreviations. A
    sentence never crosses a line break.

    Args:
        text: the document.
        config: settings; defaults to ``DedupConfig()`` (``extra_abbreviations`` and the repair
            settings change the result).
        **overrides: any setting by name, e.g. ``extra_abbreviations=("Approx",)``.

    Returns:
        The sentences, as text of the repaired document, in order.

    >>> sentences("I live in the U.S. How about you? It rained.The roads flooded.")
    ['I live in the U.S.', 'How about you?', 'It rained.', 'The roads flooded.']
    >>> sentences("1. The first item 2. The second item")
    ['1. The first item', '2. The second item']
    """
    from dedup.pipeline import prepare

    prepared = prepare(_check_text(text), make_config(config, **overrides))
    return [prepared.text[s.start : s.end] for paragraph in prepared.paragraphs for s in paragraph.sentences]


def __getattr__(name: str) -> Any:
    # Deduplicator runs the corpus driver, which imports numpy: load it on first use.
    if name == "Deduplicator":
        from dedup.deduplicator import Deduplicator

        return Deduplicator
    raise AttributeError(f"module 'dedup' has no attribute {name!r}")
