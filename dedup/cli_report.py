"""``dedup inspect`` and ``dedup diff``: what a report says, and what cleaning a file would change."""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

import click

from dedup.cli import _Command, _config_options, _flag_message, _option, build_config, main
from dedup.errors import ConfigError, DedupError, InputError
from dedup.report import human_summary, plain_value

_INSPECT_HELP = """Show what a report says: the run's settings, its summary, counts by kind, examples
of each change and flag, and the documents removed as near duplicates.

REPORT is the file dedup clean --report wrote (.json or .jsonl, plain, .gz or .zst).

\b
Examples:
  dedup inspect changes.json
  dedup inspect report.jsonl.gz --kind duplicate_removed --limit 5
  dedup inspect report.jsonl --kind suspected_splice
  dedup inspect report.jsonl --html review.html
"""


@main.command("inspect", help=_INSPECT_HELP)
@click.argument("report", type=click.Path(dir_okay=False, path_type=str))
@click.option("--kind", default=None,
              help="Only changes, flags or duplicate documents (document_removed, document_annotated) of this kind.")
@click.option("--limit", default=20, show_default=True, type=int,
              help="Examples shown per kind (0: only the counts); with --html, documents per kind on the page.")
@click.option("--html", "html_path", default=None, type=click.Path(dir_okay=False, path_type=str),
              help="Write a review page (one HTML file, opens offline) to this path instead; it shows the "
                   "documents too where the run's inputs are at hand.")
@click.option("--force", is_flag=True, help="With --html: replace an existing file.")
def inspect_command(report: str, kind: str | None, limit: int, html_path: str | None, force: bool) -> None:
    from dedup.report import read_report

    if limit < 0:
        raise ConfigError(f"--limit must be 0 or more, not {limit}")
    data = read_report(report)
    if html_path is None:  # (the listing goes to stdout)
        from dedup.outputs import check_stdout

        check_stdout([report])
    else:
        from dedup.io import check_output

        # Never the report, nor a run's input the report names, nor an existing file without --force.
        inputs = [str(p) for p in data.get("inputs") or [] if isinstance(p, str)]
        check_output(html_path, [report, *inputs], force, "--html")
    try:
        _inspect(report, data, kind, limit, html_path)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise InputError(f"{report}: not a dedup report (a record lacks or mangles {error})") from None


def _inspect(report: str, data: dict[str, Any], kind: str | None, limit: int, html_path: str | None) -> None:
    if html_path is not None:
        from dedup.review import write_review

        if kind:
            raise click.UsageError("--kind is for the text listing; the page of --html filters by kind itself")
        size = write_review(data, html_path, title=f"dedup review: {os.path.basename(report)}", limit=limit)
        click.echo(f"wrote {html_path} ({size:,} bytes)", err=True)
        return
    versions = data.get("versions") or {}
    click.echo(f"report: {report}" + (f" (dedup {versions['dedup']})" if versions.get("dedup") else ""))
    if kind is None:
        settings = data.get("settings") or {}
        click.echo(_listing("settings", [f"{k} {plain_value(v)}" for k, v in settings.items()]))
        lsh = data.get("lsh") or {}
        if lsh:
            click.echo(f"lsh: {lsh.get('bands')} bands x {lsh.get('rows')} rows")
        if versions:
            click.echo(_listing("versions", [f"{k} {plain_value(v)}" for k, v in versions.items()]))
        summary = data.get("summary") or {}
        if summary:
            click.echo("summary:")
            click.echo("\n".join("  " + line for line in human_summary(summary).splitlines()))
        else:
            click.echo("summary: none (the run did not finish)")
    documents = data.get("documents", [])
    sections = (
        ("changes", lambda doc: doc.get("changes", ()), _change_line),
        ("flags", lambda doc: doc.get("flags", ()), _flag_line),
        ("duplicate documents", lambda doc: [doc] if doc.get("duplicate_of") is not None else [], _removed_line),
        ("near duplicates kept", lambda doc: [doc] if doc.get("near_duplicate_of") is not None else [], _kept_line),
    )
    found = False
    for title, items, line in sections:
        counts: dict[str, int] = {}
        examples: list[str] = []
        for document in documents:
            for item in items(document):
                name = item.get("kind") or _document_kind(item)
                if kind and name != kind:
                    continue
                counts[name] = counts.get(name, 0) + 1
                if counts[name] <= limit:
                    examples.append(line(document, item))
        if not counts and kind:
            continue
        found = True
        click.echo(f"{title}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
        for example in examples:
            click.echo("  " + example)
    if kind and not found:
        click.echo(f"no change, flag or removed document of kind {kind}")


def _listing(title: str, items: list[str], width: int = 100) -> str:
    """``title: a, b, c``, wrapped between items."""
    lines = [f"{title}:"]
    for item in items or ["none"]:
        if len(lines[-1]) + len(item) + 2 > width and lines[-1].strip() != f"{title}:":
            lines[-1] += ","
            lines.append(" ")
        elif not lines[-1].endswith(":"):
            lines[-1] += ","
        lines[-1] += " " + item
    return "\n".join(lines)


def _clip(text: str, width: int = 80) -> str:
    return json.dumps(text[:width] + ("…" if len(text) > width else ""), ensure_ascii=False)


def _change_line(document: Mapping[str, Any], change: Mapping[str, Any]) -> str:
    return (f"{document['id']}:{change['start']}-{change['end']} {change['kind']}: {_clip(change['before'])} -> "
            f"{_clip(change['after'])}  {change.get('reason', '')}").rstrip()


def _flag_line(document: Mapping[str, Any], flag: Mapping[str, Any]) -> str:
    return (f"{document['id']}:{flag['start']}-{flag['end']} {flag['kind']}: {_clip(flag.get('text', ''))}  "
            f"{flag.get('reason', '')}").rstrip()


def _document_kind(record: Mapping[str, Any]) -> str:
    if record.get("duplicate_of") is None:
        return "near_duplicate_kept"
    return "document_removed" if record.get("removed", True) else "document_annotated"


def _kept_line(document: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    similarity, containment = record.get("similarity"), record.get("containment")
    measured = ", ".join(f"{name} {value:.2f}" for name, value in (("similarity", similarity),
                                                                   ("containment", containment))
                         if isinstance(value, (int, float)))
    return (f"{document['id']} kept: near duplicate of {record['near_duplicate_of']}{_in_index(record)}"
            + (f" ({measured})" if measured else "") + f"  {record.get('reason', '')}").rstrip()


def _in_index(record: Mapping[str, Any]) -> str:
    """`` in X.idx`` for a twin found in a saved index (``dedup clean --against``)."""
    return f" in {record['index']}" if record.get("index") else ""


def _removed_line(document: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    verb = "removed" if record.get("removed", True) else "kept (annotated)"
    similarity = record.get("similarity")
    measured = f" (similarity {similarity:.2f})" if isinstance(similarity, (int, float)) else ""
    return f"{document['id']} {verb}: near duplicate of {record['duplicate_of']}{_in_index(record)}{measured}"


_DIFF_HELP = """Show what cleaning one text file would change, as a unified diff (nothing is written).

Exit status as diff(1): 0 when cleaning changes nothing, 1 when it would change something, 2 on
an error.

\b
Examples:
  dedup diff article.txt
  dedup diff article.txt --no-split-glued | less
"""


@main.command("diff", cls=_Command, help=_DIFF_HELP)
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=str))
@_option("--encoding", default="utf-8", show_default=True, section="Input",
         help="Encoding of the input (a BOM wins).")
@_option("--errors", "decode_errors", type=click.Choice(["strict", "replace"]), default="strict",
         show_default=True, section="Input", help="What to do with bytes that do not decode.")
@_config_options(corpus=False)
@click.pass_context
def diff_command(ctx: click.Context, /, input_file: str, encoding: str, decode_errors: str, **settings: Any) -> None:
    import dedup
    from dedup.io import ReadOptions, Source, read_documents

    try:
        from dedup.formats import format_of_name

        if input_file != "-" and format_of_name(input_file) in ("jsonl", "parquet"):
            raise InputError(f"{input_file}: dedup diff shows the changes to one text file; for records use "
                             "dedup clean --report and dedup inspect")
        from dedup.outputs import check_stdout

        check_stdout([input_file])
        config = build_config(settings)
        read = ReadOptions(encoding=encoding, errors=decode_errors)
        changed = False
        for document in read_documents(Source(input_file, "text", input_file), read):
            cleaned = dedup.clean(document.text, config)
            lines = unified_diff(document.text, cleaned, input_file, input_file + " (cleaned)")
            sys.stdout.writelines(lines)
            changed = changed or bool(lines)
    except DedupError as error:
        click.echo(f"dedup: error: {_flag_message(error) if isinstance(error, ConfigError) else error}", err=True)
        ctx.exit(2)
    ctx.exit(1 if changed else 0)


def unified_diff(before: str, after: str, fromfile: str, tofile: str) -> list[str]:
    r"""A unified diff of two texts, as diff(1) writes it: a line with no final newline is marked
    ``\ No newline at end of file``.

    >>> print("".join(unified_diff("a\nb", "a\nc", "x", "y")), end="")
    --- x
    +++ y
    @@ -1,2 +1,2 @@
     a
    -b
    \ No newline at end of file
    +c
    \ No newline at end of file
    """
    lines = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                     fromfile=fromfile, tofile=tofile):
        if line.endswith(("\n", "\r")):
            lines.append(line)
        else:
            lines += [line + "\n", "\\ No newline at end of file\n"]
    return lines
