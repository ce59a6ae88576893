"""Records pass through: a JSONL record's fields other than the text keep the input's own bytes.

When a record's text changes (or ``--annotate`` adds fields), the new text is patched into the
record's original line at the place of its value, instead of re-serialising the whole record:
numbers such as ``1e999`` or ``1.00000000000000000000001``, key order, escapes, spacing and
duplicate keys stay exactly as they were. Document ids keep their JSON type (:class:`JsonId`):
``1`` and ``"1"`` are two documents.

What it leaves alone: what the text becomes (the pipeline decides), and records that do not
change (their line is copied as it is).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

__all__ = ["JsonId", "record_id", "id_value", "patch_record", "field_spans", "lone_surrogate", "loads_record"]

_SPACE = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonId(str):
    """A document id that was not a JSON string in its record (a number, a boolean, …), held as
    its JSON text: ``JsonId("1")`` is the number 1, a different id from the string ``"1"``.

    >>> ids = {record_id(1, "x"), record_id("1", "x")}
    >>> sorted(repr(i) for i in ids)
    ["'1'", 'JsonId(1)']
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"JsonId({str(self)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonId) and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("JsonId", str(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        return JsonId, (str(self),)


def record_id(value: Any, fallback: str) -> str:
    """The document id of a record whose id field holds ``value`` (``fallback`` when it is
    missing or null): a string stays the string, anything else becomes a :class:`JsonId`.

    >>> record_id("a", "f:1"), record_id(None, "f:1"), record_id(2.5, "f:1")
    ('a', 'f:1', JsonId(2.5))
    """
    if value is None:
        return fallback
    if isinstance(value, _RawInt):
        return JsonId(value)
    if isinstance(value, str):
        return value
    try:
        return JsonId(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    except (TypeError, ValueError):
        return JsonId(json.dumps(str(value)))


def id_value(ident: str) -> Any:
    """The JSON value of a document id (for a report or an ``--annotate`` field).

    >>> id_value(record_id(7, "x")), id_value("7")
    (7, '7')
    """
    if isinstance(ident, JsonId):
        try:
            return json.loads(ident)
        except ValueError:
            return str(ident)
    return ident


class _RawInt(str):
    """An integer with more digits than Python converts by default (4,300), kept as its text."""

    __slots__ = ()


def _lenient_int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return _RawInt(text)


_DECODER = json.JSONDecoder(parse_int=_lenient_int)


def loads_record(line: str) -> Any:
    """Parse one JSONL line; integers too long for Python's default limit (4,300 digits) do not
    make the record unreadable (they pass through as bytes anyway).

    >>> loads_record('{"text": "x", "n": ' + "9" * 5000 + '}')["text"]
    'x'
    """
    try:
        return json.loads(line)
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError) or "digits" not in str(error):
            raise
        return _DECODER.decode(line)


def lone_surrogate(text: str) -> int:
    """The index of the first lone surrogate (``\\ud800``…``\\udfff``, from a JSON escape) in
    ``text``, or -1: such a string is not Unicode and cannot be written as UTF-8.

    >>> lone_surrogate("ok"), lone_surrogate("a\\ud800b")
    (-1, 1)
    """
    found = _SURROGATE.search(text)
    return found.start() if found else -1


def field_spans(line: str) -> tuple[dict[str, tuple[int, int]], int]:
    """Where each top-level field's value is in the JSON object text ``line`` (``key -> (start,
    end)``; the last of repeated keys wins, as in :func:`json.loads`), and where its closing
    brace is.

    >>> field_spans('{"a": 1, "text" : "x\\\\"y"}')
    ({'a': (6, 7), 'text': (18, 24)}, 24)
    """
    at = _SPACE.match(line, 0).end()  # type: ignore[union-attr]
    if line[at : at + 1] != "{":
        raise ValueError("not a JSON object")
    at = _SPACE.match(line, at + 1).end()  # type: ignore[union-attr]
    spans: dict[str, tuple[int, int]] = {}
    if line[at : at + 1] == "}":
        return spans, at
    while True:
        if line[at : at + 1] != '"':
            raise ValueError(f"expected a key at column {at + 1}")
        key, at = scanstring(line, at + 1)
        at = _SPACE.match(line, at).end()  # type: ignore[union-attr]
        if line[at : at + 1] != ":":
            raise ValueError(f"expected ':' at column {at + 1}")
        start = _SPACE.match(line, at + 1).end()  # type: ignore[union-attr]
        _, end = _DECODER.raw_decode(line, start)
        spans[key] = (start, end)
        at = _SPACE.match(line, end).end()  # type: ignore[union-attr]
        if line[at : at + 1] == ",":
            at = _SPACE.match(line, at + 1).end()  # type: ignore[union-attr]
            continue
        if line[at : at + 1] == "}":
            return spans, at
        raise ValueError(f"expected ',' or '}}' at column {at + 1}")


def _json(value: Any) -> str:
    """A value as JSON; a :class:`JsonId` as the JSON text it was read from."""
    return str(value) if isinstance(value, JsonId) else json.dumps(value, ensure_ascii=False)


def patch_record(line: str, text_field: str, text: str | None, added: Mapping[str, Any] | None = None) -> str:
    """The record ``line`` (a JSON object, line end dropped) with the value of ``text_field``
    replaced by ``text`` (None: left as it is) and the fields ``added`` appended; every other
    byte is the line's own.

    Raises:
        KeyError: a field of ``added`` is already in the record (never overwritten).

    >>> patch_record('{"n": 1e999, "text": "a.B", "x": 1.00000000000000000000001}', "text", "a. B")
    '{"n": 1e999, "text": "a. B", "x": 1.00000000000000000000001}'
    >>> patch_record('{"id": 1}', "text", None, {"dedup_cluster": 3})
    '{"id": 1, "dedup_cluster": 3}'
    """
    line = line.rstrip("\r\n")
    spans, close = field_spans(line)
    pieces: list[str] = []
    if added:
        for key in added:
            if key in spans:
                raise KeyError(key)
        fields = ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_json(v)}" for k, v in added.items())
        pieces = [line[:close].rstrip(), ", " if spans else "", fields, line[close:]]
        # (the closing brace's offset does not move the text field's value, which is before it)
        line = "".join(pieces)
    if text is not None:
        start, end = spans[text_field]
        line = line[:start] + json.dumps(text, ensure_ascii=False) + line[end:]
    return line
