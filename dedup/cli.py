"""The ``dedup`` command: a thin click layer over the library (no logic of its own).

Every setting of :class:`~dedup.config.DedupConfig` is a flag with the same name (``num_perm`` →
``--num-perm``), built from the dataclasses in one function, so names never drift.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from dedup import __version__
from dedup.config import (
    CHOICES,
    DedupConfig,
    FingerprintConfig,
    MatchConfig,
    PolicyConfig,
    RepairConfig,
    SegmentConfig,
)
from dedup.errors import ConfigError, DedupError, Interrupted
from dedup.report import human_summary, plain_value

if TYPE_CHECKING:
    from dedup.io import ReadOptions

_HELP = {
    "fix_encoding": "Fix mojibake and bad Unicode with ftfy.",
    "split_glued": "Split glued sentence boundaries (2023.Gasoline).",
    "split_splices": "Separate lower-case splices (morning.took) and flag them.",
    "quote_space": "Restore a lost space before an opening quote.",
    "unwrap_lines": "Join hard-wrapped lines inside paragraphs.",
    "dehyphenate": "Rejoin words hyphenated across line breaks.",
    "rejoin_paragraphs": "Rejoin paragraphs broken mid-sentence.",
    "extra_abbreviations": "Extra abbreviation never ending a sentence (repeatable), e.g. 'Gov'.",
    "language": "Language of the documents (auto: detected per document); picks sentence rules and "
                "turns off English-only repairs and captions for other languages.",
    "num_perm": "MinHash permutations.",
    "seed": "MinHash seed.",
    "shingle_size": "Word n-gram size for documents.",
    "unit_shingle_size": "Word n-gram size for sentences and paragraphs.",
    "fold_digits": "Treat all numbers as equal when matching.",
    "fold_punctuation": "Ignore punctuation when matching.",
    "threshold": "Jaccard similarity of word shingles from which two documents are near duplicates.",
    "unit_threshold": "Jaccard similarity from which two sentences or paragraphs are near duplicates.",
    "min_containment": "Remove a near-duplicate document only when this share of its words is in the copy kept "
                       "(0: remove every near duplicate found).",
    "bands": "LSH bands (with --rows).",
    "rows": "LSH rows per band (with --bands).",
    "dedup_paragraphs": "Remove repeated paragraphs.",
    "dedup_sentences": "Remove repeated sentences.",
    "dedup_documents": "Remove near-duplicate documents (corpus mode).",
    "keep": "Which copy of a duplicate document to keep (none: drop every copy).",
    "min_sentence_words": "Sentences shorter than this are never removed.",
    "near_min_words": "Sentences shorter than this are removed only as exact repeats.",
    "captions": "Captions and credit lines: auto removes those glued to other text and flags standalone ones.",
    "caption_confidence": "Minimum caption confidence to act on.",
    "boilerplate": "Boilerplate shared by many documents: remove it everywhere, keep its first copy, flag it, "
                   "or keep it.",
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

#: The sections of ``dedup clean --help``, in order.
SECTIONS = ("Input", "Output", "Repair", "Matching", "Corpus", "Engine", "General")

#: The section of each config setting that is not in its stage's (repair, segment: Repair;
#: fingerprint, match: Matching; policy: Corpus).
_SECTION_OF = {
    "extra_abbreviations": "Repair",
    "captions": "Repair",
    "caption_confidence": "Repair",
    "dedup_paragraphs": "Matching",
    "dedup_sentences": "Matching",
    "min_sentence_words": "Matching",
    "near_min_words": "Matching",
}
_STAGE_SECTION = {"repair": "Repair", "segment": "Repair", "fingerprint": "Matching", "match": "Matching",
                  "policy": "Corpus"}
#: Settings that matter only across documents (not offered by ``dedup diff``).
_CORPUS_ONLY = ("dedup_documents", "keep", "boilerplate", "boilerplate_min_docs", "boilerplate_fraction",
                "threshold", "bands", "rows", "shingle_size")
#: Defaults that are not a plain value.
_SHOWN_DEFAULT = {"bands": "derived from --threshold", "rows": "derived from --threshold"}
#: Environment variables set options: DEDUP_ plus the option's name (DEDUP_NUM_PERM for
#: --num-perm), except for these, which name one run's own files.
_NO_ENVVAR = ("output", "report_path", "removed_path", "summary_json", "force", "inputs", "input_file", "verbose",
              "quiet")


class _Option(click.Option):
    """An option that knows its section of the help, and reads ``DEDUP_<NAME>`` from the
    environment."""

    def __init__(self, *args: Any, section: str = "General", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section
        if self.envvar is None and self.name and self.name not in _NO_ENVVAR:
            self.envvar = "DEDUP_" + self.name.upper().removesuffix("_PATH")


def _option(*args: Any, section: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(*args, cls=_Option, section=section, **kwargs)


class _Command(click.Command):
    """A command whose help lists its options in sections (Input, Output, Repair, …)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                rows.setdefault(getattr(param, "section", "General"), []).append(record)
        for section in (*SECTIONS, *sorted(set(rows) - set(SECTIONS))):
            if rows.get(section):
                with formatter.section(f"{section} options"):
                    formatter.write_dl(rows[section])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text(
            "Every option of settings, input and engine can also be set in the environment as DEDUP_ and its "
            "name (DEDUP_JOBS=4, DEDUP_TEXT_FIELD=body); the command line wins. Exit status: 0 done, 1 an "
            "error in the data or the run, 2 a usage error, 130 interrupted."
        )


def _config_options(corpus: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add one click option per config field, named after it (``num_perm`` → ``--num-perm``)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for stage, kind in reversed(list(_STAGE_TYPES.items())):
            for field in reversed(dataclasses.fields(kind)):
                if not corpus and field.name in _CORPUS_ONLY:
                    continue
                command = _config_option(field, _SECTION_OF.get(field.name, _STAGE_SECTION[stage]))(command)
        return command

    return decorate


def _config_option(field: dataclasses.Field[Any], section: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    flag = "--" + field.name.replace("_", "-")
    help_text = _HELP.get(field.name, "")
    default = field.default if field.default is not dataclasses.MISSING else None
    if field.type in ("bool", bool):
        negative = "--no-" + field.name.replace("_", "-")
        return _option(f"{flag}/{negative}", field.name, default=None, section=section,
                       help=f"{help_text}  [default: {flag if default else negative}]")
    if field.name == "extra_abbreviations":
        return _option(flag, field.name, multiple=True, section=section, help=help_text)
    shown = _SHOWN_DEFAULT.get(field.name, str(default))
    if field.name in CHOICES:
        return _option(flag, field.name, type=click.Choice(CHOICES[field.name]), default=None, section=section,
                       help=f"{help_text}  [default: {shown}]")
    kinds = {"int": int, "float": float, "str": str, "int | None": int}
    return _option(flag, field.name, type=kinds.get(str(field.type), str), default=None, section=section,
                   metavar=kinds.get(str(field.type), str).__name__.upper(),
                   help=f"{help_text}  [default: {shown}]")


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
    """The one place the CLI turns flags into a :class:`DedupConfig`; a bad value is a
    :class:`ConfigError` (exit status 2), which the command reports under its flag's name."""
    overrides = {k: v for k, v in values.items() if v is not None and v != ()}
    for name, preset in MODES[mode].items():
        if name in overrides and overrides[name] != preset:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"--mode {mode} sets {flag} to {plain_value(preset)}; drop {flag} or use --mode full")
        overrides[name] = preset
    if "extra_abbreviations" in overrides:
        overrides["extra_abbreviations"] = tuple(overrides["extra_abbreviations"])
    return DedupConfig().replace(**overrides)


def _flag_message(error: ConfigError) -> str:
    """A config error in the words of the command line: ``num_perm=3 is …`` → ``--num-perm 3 is …``."""
    message = str(error)
    if error.setting and message.startswith(error.setting + "="):
        message = "--" + error.setting.replace("_", "-") + " " + message[len(error.setting) + 1:]
    return message


class _Group(click.Group):
    """Turns dedup's own errors into one line on stderr and the right exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        _install_sigterm()
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"dedup: error: {_flag_message(error)}", err=True)
            ctx.exit(error.exit_code)
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
        except OSError as error:  # a system error nobody named (a full temporary disk): one line
            if isinstance(error, TimeoutError):
                click.echo(f"dedup: error: a step ran past its time limit ({error or 'TimeoutError'}); "
                           "no output was written for the document being cleaned", err=True)
                ctx.exit(1)
            where = f"{error.filename}: " if error.filename else ""
            hint = " (the temporary directory is set by TMPDIR)" if error.errno in (28, 122) else ""
            click.echo(f"dedup: error: {where}{error.strerror or error}{hint}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dedup")
def main() -> None:
    """Find repeated sentences, paragraphs and boilerplate in text, repair what scrapers broke,
    and account for every change.

    \b
    Examples:
      dedup clean article.txt -o article.clean.txt --report changes.json
      dedup inspect changes.json
      dedup diff article.txt

    Exit status: 0 done, 1 an error in the data or the run, 2 a usage error (dedup diff: 1 when
    there are differences, 2 on any error), 130 interrupted.
    """
    # dedup does no linear algebra: the threads OpenBLAS starts when numpy loads would only spin
    # (about 0.1 s of a core, taken from the workers). A setting of the user's own stands.
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


_CLEAN_HELP = """Clean documents: repair them, remove repeats, write the kept text and a report.

INPUTS are files, directories or - (stdin, the default). One text input gives one cleaned
text; directories, several inputs, dumps (--doc-separator), JSONL and Parquet run in corpus
mode, which also removes near-duplicate documents and cross-document boilerplate. The output
has the input's format; several inputs, or a directory, need -o DIR.

\b
Examples:
  dedup clean article.txt -o article.clean.txt --report changes.json
  cat dump.txt | dedup clean - > clean.txt
  dedup clean crawl/ -o crawl.clean/ --report report.jsonl
  dedup clean shard-*.jsonl.zst -o out/ --text-field text --summary-json summary.json
  cat records.jsonl | dedup clean --input-format jsonl > clean.jsonl
"""


def _format_choice() -> click.Choice[str]:
    from dedup.formats import FORMATS

    return click.Choice(FORMATS)


@main.command("clean", cls=_Command, help=_CLEAN_HELP)
@click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True, path_type=str))
@_option("--input-format", type=_format_choice(), default=None, section="Input",
         help="Read every input as this format.  [default: from each file's name; stdin: text]")
@_option("--encoding", default="utf-8", show_default=True, section="Input",
         help="Encoding of text inputs (a BOM wins).")
@_option("--errors", "decode_errors", type=click.Choice(["strict", "replace"]), default="strict",
         show_default=True, section="Input", help="What to do with bytes that do not decode.")
@_option("--text-field", default="text", show_default=True, section="Input",
         help="Text field of JSONL/Parquet records.")
@_option("--id-field", default=None, section="Input",
         help="Id field of JSONL/Parquet records; '' for file:line ids.  [default: id when the first record "
              "has one, else file:line]")
@_option("--doc-separator", default=None, metavar="REGEX", section="Input",
         help="Regex line splitting a text dump into documents.")
@_option("--lines", "one_per_line", is_flag=True, section="Input", help="Each line of a text input is a document.")
@_option("--include", multiple=True, metavar="GLOB", section="Input",
         help="Glob of files to read in directories (repeatable).")
@_option("--exclude", multiple=True, metavar="GLOB", section="Input",
         help="Glob of files to skip in directories (repeatable).")
@_option("--hidden", is_flag=True, section="Input",
         help="Also read hidden files and directories (names starting with '.') in directories.")
@_option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True, section="Input",
         help="Malformed records: stop, or skip them and list them in the report.")
@_option("--max-document-bytes", type=click.IntRange(min=1), default=1 << 30, show_default=True, section="Input",
         help="Refuse a document larger than this once decompressed (guards against bombs).")
@_option("-o", "--output", default="-", show_default=True, type=click.Path(allow_dash=True, path_type=str),
         section="Output", help="Output file, or directory (one output per input file); - is stdout.")
@_option("--output-format", type=_format_choice(), default=None, section="Output",
         help="Format of the output; must be the input's (for -o - or a name without a known suffix).  "
              "[default: the input's]")
@_option("--report", "report_path", default=None, type=click.Path(dir_okay=False, path_type=str),
         section="Output", help="Write the report of every change here (.json, .jsonl, .jsonl.gz, .jsonl.zst).")
@_option("--removed", "removed_path", default=None, type=click.Path(dir_okay=False, path_type=str),
         section="Output", metavar="FILE",
         help="Write the documents the run drops (near duplicates, repeated ids) here, whole and as read, in "
              "the inputs' format.")
@_option("--summary-json", default=None, type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
         section="Output", help="Write the run's summary here as one JSON object (for pipelines).")
@_option("--force", is_flag=True, section="Output", help="Replace an existing output.")
@_option("--annotate", is_flag=True, section="Output",
         help="Keep every document; add dedup fields instead of removing (JSONL, Parquet).")
@_option("--annotate-prefix", default=None, section="Output", metavar="PREFIX",
         help="Name --annotate's fields PREFIX+cluster, PREFIX+duplicate_of, PREFIX+similarity; an existing "
              "field is never overwritten.  [default: dedup_]")
@_option("--against", multiple=True, metavar="INDEX", type=click.Path(path_type=str), section="Matching",
         help="A saved index (dedup index build) to deduplicate against, repeatable: documents found in it are "
              "removed, the indexed copy kept. Its settings are used.")
@_option("--mode", type=click.Choice(sorted(MODES)), default="full", show_default=True, section="Matching",
         help="full: repair and dedup everything; documents: only near-duplicate documents.")
@_option("--jobs", type=click.IntRange(min=0), default=0, show_default="all cores", section="Engine",
         help="Worker processes (0: all cores).")
@_option("--memory", "memory", default=None, callback=lambda ctx, param, value: _bytes(value), section="Engine",
         metavar="SIZE",
         help="Memory budget, e.g. 8G: beyond half of it the signatures and LSH band keys stay on "
              "disk and are resolved in chunks sized to the budget.  [default: no limit]")
@_option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True, section="Engine",
         help="Where corpus passes run: this machine, or Ray tasks (needs dedup-text[ray]).")
@_option("--ray-address", default=None, section="Engine",
         help="With --engine ray: a cluster to join ('auto', 'ray://HOST:10001').  [default: a new local Ray]")
@_option("-v", "--verbose", is_flag=True, section="General", help="Print a short summary on stderr.")
@_option("-q", "--quiet", is_flag=True, section="General", help="Print nothing but errors on stderr.")
@_option("--progress/--no-progress", default=None, section="General",
         help="Show progress on stderr.  [default: when stderr is a terminal]")
@_config_options()
def clean_command(inputs: tuple[str, ...], output: str, report_path: str | None, removed_path: str | None,
                  summary_json: str | None,
                  force: bool, verbose: bool, quiet: bool, progress: bool | None, encoding: str,
                  decode_errors: str, input_format: str | None, output_format: str | None, text_field: str,
                  id_field: str | None, doc_separator: str | None, one_per_line: bool,
                  include: tuple[str, ...], exclude: tuple[str, ...], hidden: bool, on_error: str,
                  max_document_bytes: int, annotate: bool, annotate_prefix: str | None, jobs: int,
                  memory: int | None, mode: str,
                  engine: str, ray_address: str | None, against: tuple[str, ...],
                  **settings: Any) -> None:
    from dedup.formats import plan_formats
    from dedup.io import ReadOptions, is_directory
    from dedup.pipeline import RunOptions
    from dedup.run import run

    if verbose and quiet:
        raise ConfigError("-v and -q contradict each other: give one")
    if against:  # the matching settings come from the indexes (dedup.saved_index)
        from dedup.saved_index import against_config

        settings = {**settings, **against_config(against, settings)}
    config = build_config(settings, mode)
    inputs = inputs or ("-",)
    formats = plan_formats(inputs, output,
                           directories=[given for given in inputs if given != "-" and is_directory(given)],
                           input_format=input_format, output_format=output_format,
                           output_is_directory=output != "-" and is_directory(output))
    if annotate and formats.output_format == "text":
        raise ConfigError("--annotate needs record inputs (JSONL or Parquet): text has nowhere to put the fields")
    if ray_address and engine != "ray":
        raise ConfigError("--ray-address needs --engine ray")
    if report_path == "-" and output == "-":
        raise ConfigError("--report - and the output both go to stdout: give one of them a file")
    if summary_json == "-" and output == "-":
        raise ConfigError("--summary-json - and the output both go to stdout: give one of them a file")
    if summary_json not in (None, "-") and summary_json in (output, report_path):
        raise ConfigError(f"--summary-json {summary_json} is also the output or the report: give it its own name")
    read = ReadOptions(encoding=encoding, errors=decode_errors, text_field=text_field,
                       id_field=id_field or None, doc_separator=doc_separator, lines=one_per_line,
                       include=include, exclude=exclude, on_error=on_error,
                       max_document_bytes=max_document_bytes, input_format=input_format, hidden=hidden)
    if id_field is None:
        read = dataclasses.replace(read, id_field=_default_id_field(inputs, read))
    if summary_json not in (None, "-"):
        from dedup.io import check_output

        check_output(summary_json, inputs, force, "--summary-json")
    options = RunOptions(inputs=inputs, output=output, report=report_path, force=force,
                         annotate=annotate, annotate_prefix=annotate_prefix, removed=removed_path,
                         jobs=jobs, memory=memory, engine=engine,
                         ray_address=ray_address, against=against,
                         progress=not quiet and (sys.stderr.isatty() if progress is None else progress))
    summary = run(options, read, config)
    if summary_json is not None:
        from dedup.io import atomic_writer

        with atomic_writer(summary_json) as handle:
            handle.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    if not quiet:
        from dedup.io.read import skip_reason

        for name in summary.get("skipped_files", ()):
            click.echo(f"dedup: skipped {name}: {skip_reason(name)}", err=True)
        stale = summary.get("stale_files") or []
        if stale:
            shown = ", ".join(stale[:5]) + (", …" if len(stale) > 5 else "")
            click.echo(f"dedup: {len(stale)} file(s) in {output} were not written by this run: {shown}", err=True)
    if verbose:
        click.echo(human_summary(summary), err=True)


def _default_id_field(inputs: tuple[str, ...], read: ReadOptions) -> str | None:
    """``id`` when the first record of the first record input has a field ``id``, else None
    (file:line ids)."""
    from dedup.io import read_documents, sources_of

    if all(given == "-" for given in inputs):
        return None  # stdin is read once, by the run
    sources, _ = sources_of([given for given in inputs if given != "-"], read)
    for source in sources:
        if source.format == "text":
            continue
        documents = read_documents(source, dataclasses.replace(read, on_error="skip"), [])
        try:
            for document in documents:
                return "id" if document.meta.get("record", {}).get("id") is not None else None
        except DedupError:
            return None  # the run itself says what is wrong with it
        finally:
            close = getattr(documents, "close", None)
            if close is not None:
                close()
        return None
    return None


def _bytes(value: str | None) -> int | None:
    """``8G``, ``512M``, ``100000`` → bytes; a bad value is a usage error."""
    if value is None:
        return None
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (text[:-1], text[-1]) if text[-1:] in units and text[-1:] else (text, "")
    try:
        result = int(float(number) * units[unit])
    except (ValueError, KeyError, OverflowError):  # (inf, nan)
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


# The other commands register themselves on ``main`` when imported.
from dedup import cli_index, cli_report  # noqa: E402,F401
