"""``dedup index build/add/info`` and ``dedup threshold``: saved indexes (issue 20)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from dedup.cli import MODES, _Command, _config_options, _default_id_field, _format_choice, _option, build_config, main
from dedup.config import DedupConfig
from dedup.errors import ConfigError
from dedup.report import plain_value

if TYPE_CHECKING:
    from dedup.io import ReadOptions

# --------------------------------------------------------------------------- saved indexes (issue 20)


def _read_options(text_field: str, id_field: str | None, input_format: str | None, encoding: str,
                  include: tuple[str, ...], exclude: tuple[str, ...], on_error: str,
                  inputs: tuple[str, ...]) -> ReadOptions:
    from dedup.io import ReadOptions

    read = ReadOptions(encoding=encoding, text_field=text_field, id_field=id_field or None, include=include,
                       exclude=exclude, on_error=on_error, input_format=input_format)
    if id_field is None:
        read = dataclasses.replace(read, id_field=_default_id_field(inputs, read))
    return read


def _index_input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    decorators: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str)),
        _option("--input-format", type=_format_choice(), default=None, section="Input",
                help="Format of the inputs (default: from each file's name)."),
        _option("--encoding", default="utf-8", show_default=True, section="Input", help="Encoding of the inputs."),
        _option("--text-field", default="text", show_default=True, section="Input",
                help="Field holding the text in JSONL and Parquet records."),
        _option("--id-field", default=None, section="Input",
                help="Field holding the document id (default: id when the records have one, else file:line)."),
        _option("--include", multiple=True, metavar="GLOB", section="Input", help="Only files matching GLOB."),
        _option("--exclude", multiple=True, metavar="GLOB", section="Input", help="Skip files matching GLOB."),
        _option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
                section="Input", help="What to do with a bad record."),
        _option("--jobs", type=click.IntRange(min=0), default=0, show_default="all cores", section="Engine",
                help="Worker processes."),
    ]
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


@main.group("index")
def index_group() -> None:
    """A saved index of documents, to deduplicate new data against (dedup clean --against).

    \b
    Examples:
      dedup index build crawl-2025/ -o crawl.idx --text-field text --id-field id
      dedup clean crawl-2026/ --against crawl.idx -o crawl-2026.clean/ --report report.jsonl
      dedup index add crawl.idx crawl-2026.clean/
      dedup index info crawl.idx
    """


@index_group.command("build", cls=_Command)
@_index_input_options
@_option("-o", "--output", required=True, type=click.Path(path_type=str), section="Output",
         help="The index directory to create (it must not exist).")
@_option("--mode", type=click.Choice(sorted(MODES)), default="full", show_default=True, section="Matching",
         help="What a clean of the inputs does before indexing (documents: no repairs, no boilerplate).")
@_config_options()
def index_build_command(inputs: tuple[str, ...], output: str, mode: str, input_format: str | None, encoding: str,
                        text_field: str, id_field: str | None, include: tuple[str, ...], exclude: tuple[str, ...],
                        on_error: str, jobs: int, **settings: Any) -> None:
    """Index the documents a clean of INPUTS keeps, with the settings given (they are saved in the
    index and used by every run against it).

    \b
    Example:
      dedup index build crawl-2025/ -o crawl.idx --text-field text --id-field id
    """
    from dedup.engines import make_engine
    from dedup.saved_index import build_index

    config = build_config(settings, mode)
    read = _read_options(text_field, id_field, input_format, encoding, include, exclude, on_error, inputs)
    engine = make_engine("local", jobs)
    try:
        header = build_index(inputs, output, read, config, engine)
    finally:
        engine.close()
    click.echo(f"{output}: {header['documents']:,} documents indexed", err=True)


@index_group.command("add", cls=_Command)
@click.argument("index", type=click.Path(path_type=str))
@_index_input_options
def index_add_command(index: str, inputs: tuple[str, ...], input_format: str | None, encoding: str,
                      text_field: str, id_field: str | None, include: tuple[str, ...], exclude: tuple[str, ...],
                      on_error: str, jobs: int) -> None:
    """Add the documents a clean of INPUTS keeps to INDEX, as a new segment, with the index's
    settings (the segments already there are not rewritten).

    \b
    Example:
      dedup index add crawl.idx crawl-2026.clean/
    """
    from dedup.engines import make_engine
    from dedup.saved_index import add_to_index

    read = _read_options(text_field, id_field, input_format, encoding, include, exclude, on_error, inputs)
    engine = make_engine("local", jobs)
    try:
        header = add_to_index(index, inputs, read, engine)
    finally:
        engine.close()
    click.echo(f"{index}: {header['documents']:,} documents in {len(header['segments'])} segments", err=True)


@index_group.command("info")
@click.argument("index", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the header and counts as JSON.")
def index_info_command(index: str, as_json: bool) -> None:
    """Print the header of INDEX (format, settings) and the counts and size of each segment.

    \b
    Example:
      dedup index info crawl.idx
    """
    from dedup.saved_index import index_info

    info = index_info(index)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=1))
        return
    matching = info["matching"]
    click.echo(f"{index}: {info['format']} version {info['format_version']}, MinHash {info['minhash_scheme']}")
    click.echo("matching: " + ", ".join(f"{k}={plain_value(v)}" for k, v in matching.items()))
    click.echo(f"documents: {info['documents']:,} in {len(info['segments'])} segments, {info['bytes']:,} bytes"
               + (f" ({info['bytes_per_document']:,} per document)" if info["documents"] else ""))
    for segment in info["segments"]:
        click.echo(f"  segment {segment['segment']}: {segment['documents']:,} documents, "
                   f"{segment['boilerplate_units']:,} boilerplate units, {segment['bytes']:,} bytes")


@main.command("threshold")
@click.option("--threshold", type=float, default=None, help="Jaccard threshold  [default: 0.8, or the report's]")
@click.option("--num-perm", type=int, default=None, help="MinHash permutations  [default: 128]")
@click.option("--bands", type=int, default=None, help="LSH bands (with --rows)  [default: derived]")
@click.option("--rows", type=int, default=None, help="LSH rows per band (with --bands)  [default: derived]")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False, path_type=str),
              help="A report of dedup clean: the similarities it holds.")
@click.option("--at", type=float, default=None, help="With --report: how many documents this threshold removes.")
def threshold_command(threshold: float | None, num_perm: int | None, bands: int | None, rows: int | None,
                      report_path: str | None, at: float | None) -> None:
    """What a threshold means: LSH bands and rows, the chance a pair at similarity J becomes a
    candidate, and the expected misses; with --report, the similarities a run found and what
    another threshold would remove.

    \b
    Examples:
      dedup threshold --threshold 0.8 --num-perm 128
      dedup threshold --report report.jsonl --at 0.9
    """
    from dedup.saved_index import report_thresholds, threshold_table

    if at is not None and report_path is None:
        raise ConfigError("--at needs --report (the similarities come from a run's report)")
    settings: dict[str, Any] = {}
    if report_path is not None:
        from dedup.report import read_report

        settings = read_report(report_path)["settings"]
    config = DedupConfig().replace(
        threshold=threshold if threshold is not None else settings.get("threshold", 0.8),
        num_perm=num_perm if num_perm is not None else settings.get("num_perm", 128),
        bands=bands if bands is not None else settings.get("bands"),
        rows=rows if rows is not None else settings.get("rows"))
    match = config.match
    table = threshold_table(match.threshold, config.fingerprint.num_perm, match.bands, match.rows)
    click.echo(f"threshold {table['threshold']}, {table['num_perm']} permutations: "
               f"{table['bands']} bands of {table['rows']} rows")
    click.echo("similarity J   chance the pair becomes a candidate")
    for j, p in table["probability"].items():
        click.echo(f"  {j}         {p:.4f}")
    click.echo(f"a pair at the threshold is missed with chance {table['missed_at_threshold']:.4f}; "
               f"pairs above it, on average {table['missed_above_threshold']:.4f}")
    click.echo(f"a pair below the threshold becomes a candidate with chance {table['candidates_below_threshold']:.4f} "
               "on average (candidates are verified, so these cost time, never a removal)")
    if report_path is None:
        return
    found = report_thresholds(report_path, at)
    click.echo(f"{report_path}: {found['removed']:,} documents removed at {found['threshold']}, "
               f"{found['kept_near']:,} near duplicates kept (they hold text the kept copy lacks)")
    click.echo("similarity from   removed   kept near")
    for row in found["histogram"]:
        click.echo(f"  {row['from']:.2f}          {row['removed']:>7,}   {row['kept_near']:>9,}")
    if at is not None:
        bound = (" at least (the report holds only the pairs found down to 0.12 below its threshold, "
                 f"the closest 10,000; run again with --threshold {at} to see all)") if found["lower_bound"] else ""
        click.echo(f"at {at}: {found['removed_at']:,} documents removed{bound}")
