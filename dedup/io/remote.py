"""Remote data: inputs and outputs named by fsspec URLs (``s3://``, ``gs://``, ``hf://datasets/``,
``memory://``, ``file://`` and any other protocol fsspec knows), read and written through fsspec,
an optional extra (``pip install 'dedup-text[remote]'``; a store's own package, such as s3fs or
gcsfs, is installed beside it).

Reading streams through ``fs.open``; compression follows the suffix as for local files. A URL
naming a "directory" (a prefix of an object store) is read as a local directory is: every file
below it, sorted, hidden files and dedup's own temporary files skipped.

Writing keeps the atomic promise as far as the store allows: an output is written to a
temporary name beside it (``.NAME.<random>.part`` in the same prefix), then moved into place with
``fs.mv`` once complete; on failure the temporary is removed. On a file system the move is a
rename (atomic); on an object store it is a server-side copy and a delete, and the object under
the final name appears whole, in one step (atomic per object), never partial. A run killed hard
may leave a temporary object, which readers skip.

What it leaves alone: local paths, which keep their own code path (:mod:`dedup.io.read`,
:mod:`dedup.io.write`, :mod:`dedup.outputs`); locks (a store has none: two runs writing one
remote output are not kept apart).
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from collections.abc import Iterator, Sequence
from typing import IO, Any

from dedup.errors import DedupError, InputError, OutputError
from dedup.outputs import OutputCheck, is_own_temporary, temporary_name

__all__ = ["is_url", "filesystem", "open_input", "size_of", "list_files", "remote_writer", "check_remote_outputs",
           "join_url", "is_directory"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_EXTRA = "pip install 'dedup-text[remote]'"


def is_url(path: str | None) -> bool:
    """Whether ``path`` is a URL (``scheme://…``), read and written through fsspec.

    >>> is_url("s3://bucket/shards/"), is_url("hf://datasets/user/name"), is_url("shards/a.jsonl")
    (True, True, False)
    """
    return path is not None and bool(_URL.match(path))


def join_url(url: str, relative: str) -> str:
    """``relative`` (a ``/``-separated name) below the prefix ``url``.

    >>> join_url("s3://bucket/out/", "a/b.jsonl")
    's3://bucket/out/a/b.jsonl'
    """
    return url.rstrip("/") + "/" + relative


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path within it; one :class:`DedupError` line
    when fsspec, or the store's package, is missing, or the protocol is unknown."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise DedupError(f"{url}: remote paths need fsspec: {_EXTRA}") from None
    try:
        fs, path = url_to_fs(url)
        return fs, str(path)
    except ImportError as error:  # fsspec names the store's package ("Install s3fs to access S3")
        raise DedupError(f"{url}: {error}") from None
    except ValueError as error:
        raise DedupError(f"{url}: {error}") from None


def _key(url: str) -> str:
    """``url`` in one spelling (protocol and path as fsspec normalises them), for comparisons."""
    import os

    fs, path = filesystem(url)
    if "file" in _protocols(fs):  # a local file: the key of its path
        return os.path.normcase(os.path.realpath(path)).rstrip(os.sep)
    return str(fs.unstrip_protocol(path)).rstrip("/")


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + "/")


def is_directory(url: str) -> bool:
    """Whether ``url`` names a directory (a prefix with files below it, on an object store)."""
    fs, path = filesystem(url)
    try:
        return bool(fs.isdir(path))
    except OSError:
        return False


def open_input(url: str) -> IO[bytes]:
    """``url`` opened for reading, as bytes (streamed, seekable where the store allows)."""
    fs, path = filesystem(url)
    stream: IO[bytes] = fs.open(path, "rb")
    return stream


def size_of(url: str) -> int | None:
    """The size of the file at ``url`` in bytes, or None when the store does not say."""
    fs, path = filesystem(url)
    try:
        size = fs.size(path)
    except (OSError, ValueError):
        return None
    return int(size) if size is not None else None


def list_files(url: str, *, hidden: bool, include: Sequence[str],
               exclude: Sequence[str]) -> list[tuple[str, str]] | None:
    """``(url, relative name)`` of every file below the prefix ``url``, sorted (None when ``url``
    is a file). Raises a one-line :class:`InputError` when nothing is there."""
    fs, path = filesystem(url)
    try:
        if not fs.isdir(path):
            if fs.isfile(path):
                return None
            raise InputError(f"{url}: no such file or directory")
        root = path.rstrip("/")
        found = []
        for name in sorted(fs.find(root, withdirs=False)):
            relative = name[len(root):].lstrip("/")
            if not relative or is_own_temporary(relative.rsplit("/", 1)[-1]):
                continue
            if not hidden and any(part.startswith(".") for part in relative.split("/")):
                continue
            if include and not any(fnmatch.fnmatch(relative, g) for g in include):
                continue
            if any(fnmatch.fnmatch(relative, g) for g in exclude):
                continue
            found.append((join_url(url, relative), relative))
        return found
    except OSError as error:
        raise InputError(f"{url}: cannot read: {error}") from None


@contextlib.contextmanager
def remote_writer(url: str) -> Iterator[IO[bytes]]:
    """A binary stream written to a temporary object beside ``url`` and moved to ``url`` only
    when the block ends without an error; the temporary is removed otherwise."""
    fs, path = filesystem(url)
    directory, _, name = path.rstrip("/").rpartition("/")
    temporary = f"{directory}/{temporary_name(name)}" if directory else temporary_name(name)
    try:
        if directory:
            fs.makedirs(directory, exist_ok=True)
        raw = fs.open(temporary, "wb")
    except (OSError, ValueError) as error:
        raise OutputError(f"{url}: cannot write: {error}") from None
    try:
        with raw:
            yield raw
        fs.mv(temporary, path)
    except BaseException as error:
        with contextlib.suppress(Exception):
            fs.rm(temporary)
        if isinstance(error, OSError) and not isinstance(error, TimeoutError):
            raise OutputError(f"{url}: cannot write: {error}") from None
        raise


def check_remote_outputs(*, inputs: Sequence[str], sources: Sequence[tuple[str, str]], output: str,
                         report: str | None, force: bool, directory: bool, flag: str = "-o") -> OutputCheck:
    """Check the outputs of a run where some input or output is a URL: no output equals an input
    or lies under an input prefix (or a local input directory), no output directory holds an
    input, no two inputs write one output, and an existing output is replaced only with
    ``force``. Local outputs and reports among them are checked as paths."""
    import os

    def key(path: str) -> str:
        return _key(path) if is_url(path) else os.path.normcase(os.path.realpath(path)).rstrip(os.sep)

    def inside(a: str, b: str) -> bool:
        return _under(a, b) or (not is_url(a) and a.startswith(b + os.sep))

    def exists(path: str) -> tuple[bool, bool]:
        if is_url(path):
            fs, stripped = filesystem(path)
            try:
                return fs.exists(stripped), fs.isdir(stripped)
            except OSError:
                return False, False
        return os.path.exists(path), os.path.isdir(path)

    given = [(path, key(path), exists(path)[1]) for path in inputs if path != "-"]
    source_keys = {key(path): path for path, _ in sources if path != "-"}
    if output == "-":
        if directory:
            raise OutputError("several inputs, or a directory, need an output directory: pass -o DIR")
        files: list[str] = []
    elif directory:
        out = key(output)
        for path, real, is_dir in given:
            if is_dir and inside(out, real):
                raise OutputError(f"{output}: is inside input {path}; choose an output outside it")
            if inside(real, out):
                raise OutputError(f"{output}: holds the input {path}; choose an output outside the inputs")
        join = join_url if is_url(output) else os.path.join
        files = [join(output, name if path != "-" else "stdin.txt") for path, name in sources]
    else:
        files = [output]
    seen: dict[str, str] = {}
    for target in [*files, *([report] if report not in (None, "-") else [])]:
        assert target is not None
        named = "--report" if target == report else flag
        real = key(target)
        if real in seen:
            raise OutputError(f"{target}: two outputs would both be written there; rename one")
        seen[real] = target
        if real in source_keys:
            raise OutputError(f"{target}: is the input {source_keys[real]}; dedup never overwrites its input "
                              f"(choose another {named})")
        for path, input_key, is_dir in given:
            if real == input_key:
                raise OutputError(f"{target}: is the input {path}; dedup never overwrites its input "
                                  f"(choose another {named})")
            if is_dir and inside(real, input_key):
                raise OutputError(f"{target}: is under input {path}; choose an output outside it")
        there, is_dir = exists(target)
        if is_dir:
            raise OutputError(f"{target}: is a directory; dedup writes a file there (choose another name)")
        if there and not force:
            raise OutputError(f"{target}: already exists; pass --force to replace it")
    return OutputCheck(output=output, directory=directory, files=tuple(files), report=report)
