"""The ``dedup`` command: a thin click layer over the library (no logic of its own).

Every setting of :class:`~dedup.config.DedupConfig` is a flag with the same name (``num_perm`` →
``--num-perm``), built from the dataclasses in one function, so names never drift.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from dedup import __version__
from dedup.config import (
    DedupConfig,
    FingerprintConfig,
    MatchConfig,
    PolicyConfig,
    RepairConfig,
    SegmentConfig,
)
from dedup.errors import DedupError, Interrupted

_HELP = {
    "fix_encoding": "Fix mojibake and bad Unicode with ftfy.",
    "split_glued": "Split glued sentence boundaries (2023.Gasoline).",
    "split_splices": "Separate lower-case splices (morning.took) and flag them.",
    "quote_space": "Restore a lost space before an opening quote.",
    "unwrap_lines": "Join hard-wrapped lines inside paragraphs.",
    "dehyphenate": "Rejoin words hyphenated across line breaks.",
    "rejoin_paragraphs": "Rejoin paragraphs broken mid-sentence.",
    "extra_abbreviations": "Extra abbreviation never ending a sentence (repeatable), e.g. 'Gov'.",
    "num_perm": "MinHash permutations.",
    "seed": "MinHash seed.",
    "shingle_size": "Word n-gram size for documents.",
    "unit_shingle_size": "Word n-gram size for sentences and paragraphs.",
    "fold_digits": "Treat all numbers as equal when matching.",
    "fold_punctuation": "Ignore punctuation when matching.",
    "threshold": "Jaccard similarity of word shingles from which two documents are near duplicates.",
    "unit_threshold": "Jaccard similarity from which two sentences or paragraphs are near duplicates.",
    "bands": "LSH bands (with --rows; default: derived from the threshold).",
    "rows": "LSH rows per band (with --bands).",
    "dedup_paragraphs": "Remove repeated paragraphs.",
    "dedup_sentences": "Remove repeated sentences.",
    "dedup_documents": "Remove near-duplicate documents (corpus mode).",
    "keep": "Which copy of a duplicate document to keep.",
    "min_sentence_words": "Sentences shorter than this are never removed.",
    "near_min_words": "Sentences shorter than this are removed only as exact repeats.",
    "captions": "Captions: auto (remove glued, flag standalone), remove, flag, or keep.",
    "caption_confidence": "Minimum caption confidence to act on.",
    "boilerplate": "Boilerplate: remove everywhere, keep_first, flag, or keep.",
    "boilerplate_min_docs": "A unit in at least this many documents is boilerplate (0: automatic).",
    "boilerplate_fraction": "A unit in at least this fraction of documents is boilerplate (0: off).",
}

_STAGE_TYPES = {
    "repair": RepairConfig,
    "segment": SegmentConfig,
    "fingerprint": FingerprintConfig,
    "match": MatchConfig,
    "policy": PolicyConfig,
}


def _config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one click option per config field, named after it."""
    for kind in reversed(list(_STAGE_TYPES.values())):
        for field in reversed(dataclasses.fields(kind)):
            flag = "--" + field.name.replace("_", "-")
            help_text = _HELP.get(field.name, "")
            default = field.default if field.default is not dataclasses.MISSING else None
            if field.type in ("bool", bool):
                negative = "--no-" + field.name.replace("_", "-")
                option = click.option(f"{flag}/{negative}", field.name, default=None,
                                      help=f"{help_text} [default: {'on' if default else 'off'}]")
            elif field.name == "extra_abbreviations":
                option = click.option(flag, field.name, multiple=True, help=help_text)
            else:
                kinds = {"int": int, "float": float, "str": str, "int | None": int}
                option = click.option(flag, field.name, type=kinds.get(str(field.type), str), default=None,
                                      help=f"{help_text} [default: {default}]")
            command = option(command)
    return command


#: What each --mode sets. "documents" only removes near-duplicate documents: no repairs, no
#: sentence or paragraph dedup, no captions, no boilerplate.
MODES: dict[str, dict[str, Any]] = {
    "full": {},
    "documents": {
        "fix_encoding": False, "split_glued": False, "split_splices": False, "quote_space": False,
        "unwrap_lines": False, "dehyphenate": False, "rejoin_paragraphs": False,
        "dedup_paragraphs": False, "dedup_sentences": False, "captions": "keep", "boilerplate": "keep",
    },
}


def build_config(values: dict[str, Any], mode: str = "full") -> DedupConfig:
    """The one place the CLI turns flags into a :class:`DedupConfig`."""
    from dedup.errors import ConfigError

    overrides = {k: v for k, v in values.items() if v is not None and v != ()}
    for name, preset in MODES[mode].items():
        if name in overrides and overrides[name] != preset:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"--mode {mode} sets {flag} to {preset!r}; drop {flag} or use --mode full")
        overrides[name] = preset
    if "extra_abbreviations" in overrides:
        overrides["extra_abbreviations"] = tuple(overrides["extra_abbreviations"])
    return DedupConfig().replace(**overrides)


class _Group(click.Group):
    """Turns dedup's own errors into one line on stderr and the right exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        _install_sigterm()
        try:
            return super().invoke(ctx)
        except DedupError as error:
            if str(error).startswith("stdout: cannot write"):
                _quiet_stdout()
            click.echo(f"dedup: error: {error}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            from dedup.io import remove_pending

            remove_pending()
            click.echo("dedup: interrupted; no partial output was left", err=True)
            ctx.exit(Interrupted.exit_code)
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(0)
        except OSError as error:  # safety hook: a system error nobody named (a full temporary disk): one line
            if isinstance(error, TimeoutError):
                click.echo(f"dedup: error: a step ran past its time limit ({error or 'TimeoutError'}); "
                           "no output was written for the document being cleaned", err=True)
                ctx.exit(1)
            where = f"{error.filename}: " if error.filename else ""
            hint = " (the temporary directory is set by TMPDIR)" if error.errno in (28, 122) else ""
            click.echo(f"dedup: error: {where}{error.strerror or error}{hint}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dedup")
def main() -> None:
    """Find repeated sentences, paragraphs and boilerplate in text, repair what scrapers broke,
    and account for every change.

    \b
    Example:
      dedup clean article.txt -o article.clean.txt --report changes.json
    """
    # dedup does no linear algebra: the threads OpenBLAS starts when numpy loads would only spin
    # (about 0.1 s of a core, taken from the workers). A setting of the user's own stands.
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


_CLEAN_HELP = """Clean documents: repair them, remove repeats, write the kept text and a report.

INPUTS are files, directories or - (stdin, the default). One text input gives one cleaned
text; directories, several inputs, dumps (--doc-separator), JSONL and Parquet run in corpus
mode, which also removes near-duplicate documents and cross-document boilerplate.

\b
Examples:
  dedup clean article.txt -o article.clean.txt --report changes.json
  cat dump.txt | dedup clean - > clean.txt
  dedup clean crawl/ -o crawl.clean/ --report report.jsonl
  dedup clean shard-*.jsonl.zst -o out/ --text-field text
"""


@main.command("clean", help=_CLEAN_HELP)
@click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True))
@click.option("-o", "--output", default="-", show_default=True, help="Output file or directory; - is stdout.")
@click.option("--report", "report_path", default=None, help="Write the report here (.json or .jsonl).")
@click.option("--force", is_flag=True, help="Replace an existing output.")
@click.option("-v", "--verbose", is_flag=True, help="Print a short summary on stderr.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of text inputs (a BOM wins).")
@click.option("--errors", "decode_errors", type=click.Choice(["strict", "replace"]), default="strict",
              show_default=True, help="What to do with bytes that do not decode.")
@click.option("--text-field", default="text", show_default=True, help="Text field of JSONL/Parquet records.")
@click.option("--id-field", default=None, help="Id field of JSONL/Parquet records (default: file:line).")
@click.option("--doc-separator", default=None, help="Regex line splitting a text dump into documents.")
@click.option("--lines", "one_per_line", is_flag=True, help="Each line of a text input is a document.")
@click.option("--include", multiple=True, help="Glob of files to read in directories (repeatable).")
@click.option("--exclude", multiple=True, help="Glob of files to skip in directories (repeatable).")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="Malformed records: stop, or skip them and list them in the report.")
@click.option("--max-document-bytes", type=click.IntRange(min=1), default=1 << 30, show_default=True,
              help="Refuse a document larger than this once decompressed (guards against bombs).")
@click.option("--annotate", is_flag=True, help="Keep every document; add dedup fields instead of removing.")
@click.option("--annotate-prefix", default=None,
              help="Name --annotate's fields PREFIX+cluster, … (default dedup_); an existing field is never "
                   "overwritten.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, help="Worker processes (0: all cores).")
@click.option("--memory", "memory", default=None, callback=lambda ctx, param, value: _bytes(value),
              help="Memory budget, e.g. 8G: beyond half of it the signatures and LSH band keys stay on "
                   "disk and are resolved in chunks sized to the budget.")
@click.option("--mode", type=click.Choice(sorted(MODES)), default="full", show_default=True,
              help="full: repair and dedup everything; documents: only near-duplicate documents.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where corpus passes run: this machine, or Ray tasks (needs dedup[ray]).")
@click.option("--ray-address", default=None,
              help="With --engine ray: a cluster to join ('auto', 'ray://HOST:10001'); default a local Ray.")
@_config_options
def clean_command(inputs: tuple[str, ...], output: str, report_path: str | None, force: bool,
                  verbose: bool, encoding: str, decode_errors: str, text_field: str,
                  id_field: str | None, doc_separator: str | None, one_per_line: bool,
                  include: tuple[str, ...], exclude: tuple[str, ...], on_error: str,
                  max_document_bytes: int, annotate: bool, annotate_prefix: str | None, jobs: int,
                  memory: int | None, mode: str,
                  engine: str, ray_address: str | None,
                  **settings: Any) -> None:
    from dedup.io import ReadOptions
    from dedup.pipeline import RunOptions
    from dedup.run import run

    config = build_config(settings, mode)
    read = ReadOptions(encoding=encoding, errors=decode_errors, text_field=text_field,
                       id_field=id_field, doc_separator=doc_separator, lines=one_per_line,
                       include=include, exclude=exclude, on_error=on_error,
                       max_document_bytes=max_document_bytes)
    options = RunOptions(inputs=inputs or ("-",), output=output, report=report_path, force=force,
                         annotate=annotate, annotate_prefix=annotate_prefix, jobs=jobs, memory=memory, engine=engine,
                         ray_address=ray_address,
                         progress=sys.stderr.isatty())
    summary = run(options, read, config)
    if verbose:
        from dedup.report import human_summary

        click.echo(human_summary(summary), err=True)


@main.command("inspect")
@click.argument("report", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", default=None, help="Only changes of this kind.")
@click.option("--limit", default=20, show_default=True, help="Changes shown per kind.")
def inspect_command(report: str, kind: str | None, limit: int) -> None:
    """Summarise a report: settings, counts by kind, and examples of each change.

    \b
    Example:
      dedup inspect changes.json --kind duplicate_removed
    """
    from dedup.report import human_summary, load_report

    with open(report, encoding="utf-8") as handle:
        data = load_report(handle.read(), report)
    click.echo(human_summary(data.get("summary", {})))
    shown: dict[str, int] = {}
    for document in data.get("documents", []):
        for change in document.get("changes", []):
            if kind and change["kind"] != kind:
                continue
            if shown.get(change["kind"], 0) >= limit:
                continue
            shown[change["kind"]] = shown.get(change["kind"], 0) + 1
            before = change["before"].replace("\n", "\\n")
            after = change["after"].replace("\n", "\\n")
            click.echo(f"{document['id']}:{change['start']}-{change['end']} {change['kind']}: "
                       f"{before[:80]!r} -> {after[:80]!r}  {change.get('reason', '')}")


@main.command("diff")
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--encoding", default="utf-8", show_default=True)
@_config_options
def diff_command(input_file: str, encoding: str, **settings: Any) -> None:
    """Show what cleaning one text file would change, as a unified diff (nothing is written).

    \b
    Example:
      dedup diff article.txt
    """
    import dedup
    from dedup.io import ReadOptions, Source, read_documents

    config = build_config(settings)
    for document in read_documents(Source(input_file, "text", input_file), ReadOptions(encoding=encoding)):
        cleaned = dedup.clean(document.text, config)
        sys.stdout.writelines(difflib.unified_diff(
            document.text.splitlines(keepends=True), cleaned.splitlines(keepends=True),
            fromfile=input_file, tofile=input_file + " (cleaned)"))


def _bytes(value: str | None) -> int | None:
    """``8G``, ``512M``, ``100000`` → bytes; a bad value is a usage error."""
    if value is None:
        return None
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (text[:-1], text[-1]) if text[-1:] in units and text[-1:] else (text, "")
    try:
        result = int(float(number) * units[unit])
    except (ValueError, KeyError, OverflowError):  # (inf, nan: safety hook)
        raise click.BadParameter(f"{value!r} is not a size; write it like 8G, 512M or 100000") from None
    if result <= 0:
        raise click.BadParameter(f"{value!r} must be more than zero")
    return result


def _quiet_stdout() -> None:
    """After stdout failed (a closed pipe, a full disk), point it at /dev/null so that Python's
    last flush at exit does not print a second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _install_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. inside a test runner thread)
        pass




if __name__ == "__main__":  # pragma: no cover
    main()
