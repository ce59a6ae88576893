"""Read and write: documents in, documents out, in the input's own format, atomically.

:mod:`dedup.io.read` streams documents from every kind of input, :mod:`dedup.io.plan` decides
where a run writes (the one place output paths are decided and checked), and
:mod:`dedup.io.write` writes outputs atomically, one record writer per format. Inputs are never
modified.
"""

from __future__ import annotations

from dedup.io.plan import OutputPlan, check_output, plan_outputs
from dedup.io.read import ReadOptions, Source, decode_bytes, format_of, read_documents, sources_of
from dedup.io.remote import is_url
from dedup.io.write import PENDING_OUTPUTS, Outputs, atomic_writer, remove_pending

__all__ = [
    "ReadOptions",
    "Source",
    "sources_of",
    "read_documents",
    "decode_bytes",
    "format_of",
    "OutputPlan",
    "plan_outputs",
    "check_output",
    "Outputs",
    "atomic_writer",
    "remove_pending",
    "PENDING_OUTPUTS",
    "is_url",
    "is_directory",
]


def is_directory(path: str) -> bool:
    """Whether ``path`` is a directory: a local one, or a prefix of a store named by a URL.

    >>> is_directory("."), is_directory("no-such-directory")
    (True, False)
    """
    import os

    if is_url(path):
        from dedup.io.remote import is_directory as remote_directory

        return remote_directory(path)
    return os.path.isdir(path)
