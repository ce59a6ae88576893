"""Output planning: the one place where a run decides, before anything is written, where each
input's documents go and whether the run may write there.

:func:`plan_outputs` checks the inputs and options of a run and returns an :class:`OutputPlan`,
which names the output of every source (one file, or a file per input under a directory, or, for
a byte range of one large file, a part in the run's temporary directory that is joined into the
output in order). Writers (:mod:`dedup.io.write`) ask the plan for a target; they never work one
out themselves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dedup.errors import DedupError, InputError
from dedup.io.read import Source
from dedup.io.remote import check_remote_outputs, is_directory, is_url, join_url
from dedup.outputs import STDIN_NAME, OutputCheck, check_outputs

__all__ = ["OutputPlan", "plan_outputs", "check_output"]


@dataclass(frozen=True, kw_only=True)
class OutputPlan:
    """Where a run writes. ``single``: every kept document goes to ``output`` (a file or ``-``),
    else each source to its own file under the directory ``output``. ``parts``: the directory
    where the parts of byte ranges go (the run's temporary directory)."""

    output: str
    report: str | None
    single: bool
    parts: str | None = None
    #: Every output path checked against every input and other output (see
    #: :func:`dedup.outputs.check_outputs`): the lock, stale files and a killed run's leftovers.
    checked: OutputCheck | None = None

    def target(self, source: Source) -> str:
        """The file the documents of ``source`` are written to.

        >>> OutputPlan(output="out", report=None, single=False).target(Source("in/a.jsonl", "jsonl", "a.jsonl"))
        'out/a.jsonl'
        """
        if source.stop is not None and self.parts is not None:  # a byte range: its part, joined later
            return str(Path(self.parts) / f"range-{source.start:015d}.part")
        if self.single:
            return self.output
        relative = source.relative if source.path != "-" else STDIN_NAME
        if is_url(self.output):
            return join_url(self.output, relative)
        return str(Path(self.output) / relative)


def check_output(output: str, inputs: Sequence[str], force: bool, flag: str = "-o") -> None:
    """Refuse to overwrite an input (or anything inside an input directory), a device, or an
    existing output without ``force`` (a one-file output such as ``--summary-json``, the option
    ``flag`` names in the messages)."""
    if output == "-":
        return
    if is_url(output) or any(is_url(path) for path in inputs):
        check_remote_outputs(inputs=inputs, sources=[], output=output, report=None, force=force, directory=False,
                             flag=flag)
        if is_url(output):
            return
    check_outputs(inputs=inputs, sources=[], output=output, report=None, force=force, directory=False, flag=flag)


def plan_outputs(sources: list[Source], inputs: Sequence[str], output: str, report: str | None, *,
                 force: bool, annotate: bool, temporary: str | None = None) -> OutputPlan:
    """Check a run's inputs and outputs and decide where it writes; raises a :class:`DedupError`
    naming the problem when it may not write there (every path is checked by
    :func:`dedup.outputs.check_outputs`; ``temporary`` is the run's temporary directory)."""
    if not sources:
        raise InputError("no input documents found (check the paths and --include/--exclude)")
    if annotate and any(s.format == "text" for s in sources):
        raise DedupError("--annotate needs record inputs (JSONL or Parquet): text has nowhere to put the fields")
    if len(sources) > 1 and output == "-":
        raise DedupError("several inputs need an output directory: pass -o DIR")
    from_directory = any(given != "-" and _is_dir(given) for given in inputs)
    single = len(sources) <= 1 and not from_directory and (
        output == "-" or not (_is_dir(output) or output.endswith(("/", os.sep)))
    )
    if any(is_url(path) for path in (output, report, *inputs)):  # (URLs are checked through fsspec)
        checked = check_remote_outputs(inputs=inputs, sources=[(s.path, s.relative) for s in sources],
                                       output=output, report=report, force=force, directory=not single)
        if is_url(output) or is_url(report):
            return OutputPlan(output=output, report=report, single=single, checked=checked)
    checked = check_outputs(inputs=inputs, sources=[(s.path, s.relative) for s in sources], output=output,
                            report=report, force=force, directory=not single, temporary=temporary)
    return OutputPlan(output=output, report=report, single=single, checked=checked)


def _is_dir(path: str) -> bool:
    return is_directory(path) if is_url(path) else Path(path).is_dir()
