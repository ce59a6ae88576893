"""Which format a run reads and writes, decided before anything is read or written.

The input format comes from each file's name (``.jsonl``, ``.jsonl.gz``, ``.parquet``, anything
else is text) unless ``input_format`` names one; stdin is text unless told otherwise. The output
mirrors the input: a record format stays that format, every field passing through. An ``-o``
whose name says another format (``-o c.parquet`` on JSONL input), an ``output_format`` that
differs from the input's, and several inputs written to one file are refused here, in one line,
rather than written as something the name does not say.

Pure functions over names and flags: no file is opened (the caller says which inputs are
directories).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dedup.errors import ConfigError

__all__ = ["FORMATS", "FormatPlan", "plan_formats", "format_of_name"]

#: The formats dedup reads and writes.
FORMATS = ("text", "jsonl", "parquet")

_COMPRESSION = (".gz", ".zst", ".zstd")
_RECORD_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
#: Names that say "a file of this format": an ``-o`` ending so is a file, never a directory.
_TEXT_SUFFIXES = (".txt", ".text", ".md")


@dataclass(frozen=True, kw_only=True)
class FormatPlan:
    """What a run reads and writes.

    ``input_format`` is None when each input's name decides (and so may differ between inputs);
    ``many_outputs`` is whether the output is a directory with one output per input file.
    """

    input_format: str | None
    output_format: str | None
    many_outputs: bool


def format_of_name(name: str) -> str | None:
    """The format a file name says, or None when it says none (no known suffix).

    >>> format_of_name("shard-00.jsonl.zst"), format_of_name("a.parquet"), format_of_name("notes.txt")
    ('jsonl', 'parquet', 'text')
    >>> format_of_name("out") is None
    True
    """
    lowered = name.lower()
    for suffix in _COMPRESSION:
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
            break
    for suffix, kind in _RECORD_SUFFIXES.items():
        if lowered.endswith(suffix):
            return kind
    if lowered.endswith(_TEXT_SUFFIXES):
        return "text"
    return None


def plan_formats(inputs: Sequence[str], output: str, *, directories: Sequence[str] = (),
                 input_format: str | None = None, output_format: str | None = None,
                 output_is_directory: bool = False) -> FormatPlan:
    """Decide the formats of a run, or refuse it with a :class:`ConfigError` in one line.

    Args:
        inputs: the input paths as given (``-`` is stdin).
        output: ``-o`` as given (``-`` is stdout).
        directories: those of ``inputs`` that are directories.
        input_format: ``--input-format`` (None: from each name).
        output_format: ``--output-format`` (None: the input's).
        output_is_directory: whether ``output`` is an existing directory.

    >>> plan_formats(["a.jsonl"], "b.jsonl").output_format
    'jsonl'
    >>> try:
    ...     plan_formats(["a.jsonl"], "c.parquet")
    ... except ConfigError as error:
    ...     print(str(error)[:52])
    -o c.parquet names a Parquet file but the input is J
    >>> plan_formats(["-"], "-", input_format="jsonl").output_format
    'jsonl'
    """
    for flag, value in (("--input-format", input_format), ("--output-format", output_format)):
        if value is not None and value not in FORMATS:
            raise ConfigError(f"{flag} {value!r} is not a format: choose one of {', '.join(FORMATS)}")
    given = list(inputs) or ["-"]
    if input_format == "parquet" and "-" in given:
        raise ConfigError("Parquet cannot be read from stdin (it is not a stream format); pass the file's path")
    many = len(given) > 1 or bool(directories)
    named = None if output == "-" else format_of_name(output.rstrip("/"))
    to_directory = output_is_directory or output.endswith("/")
    if many:
        if output == "-":
            what = f"directory input {directories[0]}" if len(given) == 1 else f"{len(given)} inputs"
            raise ConfigError(f"{what} gives one output per file: pass -o DIR (a directory to write them to)")
        if named is not None and not to_directory:
            raise ConfigError(
                f"-o {output} names one {_label(named)} file, but {len(given)} inputs give one output per file "
                f"and dedup does not merge them: pass a directory (-o {_stem(output)}/)"
                if len(given) > 1 else
                f"-o {output} names one {_label(named)} file, but directory input {directories[0]} gives one "
                f"output per file: pass a directory (-o {_stem(output)}/)"
            )
    # The formats the inputs have (by name, or as told), when they agree.
    formats = {input_format or _input_format(path) for path in given if path not in directories}
    source = formats.pop() if len(formats) == 1 and not directories else None
    if input_format is not None:
        source = input_format
    if output_format is not None and source is not None and output_format != source:
        raise ConfigError(
            f"--output-format {output_format} differs from the input's format ({source}); dedup writes "
            f"the input's format: drop --output-format or pass --output-format {source}"
        )
    if output_format is not None and named is not None and not to_directory and output_format != named:
        raise ConfigError(f"--output-format {output_format} contradicts -o {output}, which names a "
                          f"{_label(named)} file")
    if not many and not to_directory and named is not None and source is not None and named != source:
        if not (source == "text" and named == "text"):
            raise ConfigError(
                f"-o {output} names a {_label(named)} file but the input is {_label(source)}; dedup writes "
                f"the input's format: name the output {_suffixes(source)}"
            )
    return FormatPlan(input_format=input_format, output_format=output_format or source, many_outputs=many)


def _input_format(path: str) -> str:
    if path == "-":
        return "text"
    return format_of_name(path) or "text"


def _label(kind: str) -> str:
    return {"jsonl": "JSONL", "parquet": "Parquet", "text": "text"}[kind]


def _suffixes(kind: str) -> str:
    return {"jsonl": ".jsonl (or .jsonl.gz, .jsonl.zst)", "parquet": ".parquet",
            "text": ".txt (or any name without .jsonl or .parquet)"}[kind]


def _stem(output: str) -> str:
    name = output.rstrip("/")
    lowered = name.lower()
    for suffix in _COMPRESSION:
        if lowered.endswith(suffix):
            name, lowered = name[: -len(suffix)], lowered[: -len(suffix)]
            break
    for suffix in (*_RECORD_SUFFIXES, *_TEXT_SUFFIXES):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return name
