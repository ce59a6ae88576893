"""Output planning: every path a run writes is decided and checked here, before anything is written.

:func:`check_outputs` resolves the output file (or the output directory and each input's file in
it) and the report, and checks each against every input and every other output: the same file
(device and inode, so also through a hard link, ``..`` or a symbolic link), one inside the
other in either direction, two inputs mapping to one output name, symbolic links inside the
output directory (never written through), and files that are not regular (a device, a FIFO:
never replaced; a character device or FIFO is streamed into). A refusal is one
:class:`~dedup.errors.OutputError` line naming both paths.

:func:`output_lock` keeps two runs from writing one output at once, and removes the temporary
files a killed run left (their names are dedup's own: see :func:`is_own_temporary`).

What it leaves alone: how outputs are written (atomically, by :func:`dedup.io.atomic_writer`).
Stale files already in an output directory are never deleted: without ``--force`` they are a
refusal, with it they are listed (:attr:`OutputCheck.stale`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from dedup.errors import OutputError

__all__ = ["OutputCheck", "check_outputs", "check_stdout", "output_lock", "is_own_temporary", "temporary_name",
           "STDIN_NAME"]

#: The output name of stdin in an output directory.
STDIN_NAME = "stdin.txt"

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{12}\.part$")
_LOCK_SUFFIX = ".dedup-lock"


def temporary_name(name: str) -> str:
    """The name of the temporary file an output called ``name`` is written to before it is renamed.

    >>> is_own_temporary(temporary_name("a.txt"))
    True
    """
    return f".{name}.{os.urandom(6).hex()}.part"


def is_own_temporary(name: str) -> bool:
    """Whether a file name is one of dedup's temporary outputs or locks (never an input, never a
    stale output).

    >>> is_own_temporary(".a.txt.0123456789ab.part"), is_own_temporary(".out.dedup-lock")
    (True, True)
    >>> is_own_temporary("a.txt.part")
    False
    """
    return bool(_TEMPORARY.match(name)) or (name.startswith(".") and name.endswith(_LOCK_SUFFIX))


@dataclass(frozen=True, kw_only=True)
class OutputCheck:
    """Where a run writes, checked (see :func:`check_outputs`).

    Attributes:
        output: the output as given (``-`` is stdout).
        directory: whether the output is a directory (one file per input) rather than one file.
        files: each input's output file, in the order of the sources (empty for stdout).
        report: the report path, or None.
        streams: outputs that exist and are character devices or FIFOs: written into, never replaced.
        stale: files already in the output directory that this run does not write (with ``--force``).
        leftovers: temporary files a killed run left beside the outputs, removed under the lock.
    """

    output: str
    directory: bool
    files: tuple[str, ...] = ()
    report: str | None = None
    streams: frozenset[str] = field(default_factory=frozenset)
    stale: tuple[str, ...] = ()
    leftovers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Input:
    given: str
    real: str
    is_dir: bool


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _inside(path: str, directory: str) -> bool:
    """Whether real path ``path`` is ``directory`` or below it."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _stream_identity(name: str) -> tuple[int, int] | None:
    """The file behind this process's ``stdin`` or ``stdout`` when it is a regular file (``<
    a.txt``, ``>> a.txt``): a device or pipe is no file an output could overwrite."""
    import sys

    try:
        info = os.fstat(getattr(sys, name).fileno())
    except (AttributeError, OSError, ValueError):  # (replaced by an object with no file)
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


def check_stdout(inputs: Sequence[str]) -> None:
    """Refuse to write to stdout when it is one of ``inputs`` (files; ``-`` for stdin): ``dedup
    diff a.txt >> a.txt`` would write into its input.

    Raises:
        OutputError: one line naming the input.
    """
    identities: dict[tuple[int, int], str] = {}
    for path in inputs:
        ident = _stream_identity("stdin") if path == "-" else _identity(path)
        if ident is not None:
            identities.setdefault(ident, "stdin" if path == "-" else path)
    _check_stdout(identities)


def _check_stdout(identities: dict[tuple[int, int], str]) -> None:
    ident = _stream_identity("stdout")
    if ident is not None and ident in identities:
        raise OutputError(f"stdout: is the input {identities[ident]}; dedup never overwrites its input "
                          "(send stdout to another file)")


def check_outputs(*, inputs: Sequence[str], sources: Sequence[tuple[str, str]], output: str,
                 report: str | None, force: bool, directory: bool, temporary: str | None = None,
                 flag: str = "-o") -> OutputCheck:
    """Decide and check every output path of a run, before anything is written.

    Args:
        inputs: the inputs as given (files, directories, ``-``).
        sources: ``(path, name)`` of every input file found, in order: its path (``-`` for stdin)
            and its name relative to its input (its output name in an output directory).
        output: ``-o`` (``-`` is stdout).
        report: ``--report`` or None.
        force: whether existing outputs may be replaced.
        directory: whether the output is a directory (several inputs, or a directory input).
        temporary: the run's temporary directory (document text): never inside an input
            directory or the output directory.
        flag: the option that names ``output``, for the messages (``--removed``).

    Returns:
        The checked :class:`OutputCheck`.

    Raises:
        OutputError: one line naming the output and the input (or other output) it would harm.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "a.txt").write_text("x")
    1
    >>> check_outputs(inputs=[str(root / "a.txt")], sources=[(str(root / "a.txt"), "a.txt")],
    ...              output=str(root / "a.txt"), report=None, force=True, directory=False)
    Traceback (most recent call last):
    dedup.errors.OutputError: ...a.txt: is the input ...a.txt; dedup never overwrites its input (choose another -o)
    """
    for option, value in ((flag, output), ("--report", report)):
        if value is not None and not value.strip():
            raise OutputError(f"{option} is empty (an unset shell variable?); give a file or directory, "
                              "or - for stdout")
        if value is not None and "\0" in value:
            raise OutputError(f"{option} {value!r}: a path cannot hold a NUL character")
    given = [_Input(path, _real(path), os.path.isdir(path)) for path in inputs if path != "-"]
    identities: dict[tuple[int, int], str] = {}
    for path, _ in sources:
        if path != "-":
            ident = _identity(path)
            if ident is not None:
                identities.setdefault(ident, path)
    for item in given:
        if not item.is_dir:
            ident = _identity(item.given)
            if ident is not None:
                identities.setdefault(ident, item.given)
    if "-" in inputs:  # stdin read from a file (``< a.txt``): that file is an input too
        ident = _stream_identity("stdin")
        if ident is not None:
            identities.setdefault(ident, "stdin")
    if "-" in (output, report):  # stdout appending to an input (``>> a.txt``)
        _check_stdout(identities)
    if output == "-":
        files: list[str] = []
        if directory:
            raise OutputError("several inputs, or a directory, need an output directory: pass -o DIR")
    elif directory:
        _check_directory(output, given)
        files = [os.path.join(output, name if path != "-" else STDIN_NAME) for path, name in sources]
    else:
        files = [output]
    if temporary is not None:
        real = _real(temporary)
        for item in given:
            if item.is_dir and _inside(real, item.real):
                raise OutputError(f"{temporary}: the temporary directory is inside input directory {item.given}; "
                                  "set TMPDIR to a directory outside the inputs")
        if directory and _inside(real, _real(output)):
            raise OutputError(f"{temporary}: the temporary directory is inside the output directory {output}; "
                              "set TMPDIR to a directory outside it")
    targets = [*files, *([report] if report not in (None, "-") else [])]
    _check_collisions(files, sources if directory else [], report, output if directory else None)
    streams = set()
    for target in targets:
        if directory and (target != report or _inside(os.path.abspath(target), os.path.abspath(output))):
            _check_no_links(output, target)
        _check_against_inputs(target, given, identities, flag if target != report else "--report")
        if _check_existing(target, force):
            streams.add(target)
    stale: list[str] = []
    leftovers: list[str] = []
    if directory and os.path.isdir(output):
        stale, leftovers = _survey(output, files, report)
    for target in (targets if not directory else [report] if report not in (None, "-") else []):
        leftovers.extend(_own_leftovers(target))
    if stale and not force:
        raise OutputError(
            f"{output}: already holds {len(stale)} file(s) this run would not write (e.g. {stale[0]}); "
            "choose an empty or new directory, or pass --force to write into it anyway (they are listed)"
        )
    return OutputCheck(output=output, directory=directory, files=tuple(files), report=report,
                      streams=frozenset(streams), stale=tuple(stale), leftovers=tuple(sorted(set(leftovers))))


def _check_directory(output: str, given: Sequence[_Input]) -> None:
    """The output directory is neither inside an input directory nor holding an input."""
    if os.path.exists(output) and not os.path.isdir(output):
        raise OutputError(f"{output}: cannot write: it is a file, not a directory")
    real = _real(output)
    for item in given:
        if item.is_dir and _inside(real, item.real):
            raise OutputError(f"{output}: is inside input directory {item.given}; choose an output outside it")
        if _inside(item.real, real):
            raise OutputError(f"{output}: holds the input {item.given}; choose an output directory outside the inputs")


def _check_collisions(files: Sequence[str], sources: Sequence[tuple[str, str]], report: str | None,
                      output: str | None = None) -> None:
    """No two inputs write one file, and no output file is another's directory."""
    seen: dict[str, int] = {}
    for k, path in enumerate(files):
        key = os.path.normcase(os.path.normpath(os.path.abspath(path)))
        if key in seen:
            first = sources[seen[key]][0] if sources else "?"
            second = sources[k][0] if sources else "?"
            raise OutputError(
                f"{path}: two inputs would both be written there ({_shown(first)} and {_shown(second)}); "
                "rename one, or clean them in separate runs"
            )
        seen[key] = k
    if report not in (None, "-"):
        key = os.path.normcase(os.path.normpath(os.path.abspath(report)))
        real = _real(report)
        for path in files:
            if key == os.path.normcase(os.path.normpath(os.path.abspath(path))) or real == _real(path):
                raise OutputError(f"{report}: is both the output and the report; give the report another name")
        seen[key] = len(files)
    named = [*files, report or ""]
    keys = sorted(seen)
    for a, b in zip(keys, keys[1:]):
        if b.startswith(a.rstrip(os.sep) + os.sep):
            raise OutputError(f"{named[seen[a]]}: is an output file, and {named[seen[b]]} would need it to be a "
                              "directory; rename one")
    if output is not None and report not in (None, "-"):
        real, directory = _real(report), _real(output)
        if _inside(directory, real):
            raise OutputError(f"{report}: is the output directory {output} (or holds it); give the report "
                              "another name")


def _shown(path: str) -> str:
    return "stdin" if path == "-" else path


def _check_no_links(output: str, target: str) -> None:
    """No component of ``target`` below ``output`` is a symbolic link (never written through)."""
    relative = os.path.relpath(target, output)
    at = output
    for part in relative.split(os.sep):
        at = os.path.join(at, part)
        try:
            info = os.lstat(at)
        except FileNotFoundError:
            return
        except OSError as error:
            raise OutputError(f"{at}: cannot write: {error.strerror or error}") from None
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{at}: is a symbolic link inside the output directory {output}; dedup never "
                              "writes through one (remove it or choose another -o)")
        if at != target and not stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{target}: cannot write: {at} is a file, not a directory")


def _check_against_inputs(target: str, given: Sequence[_Input], identities: dict[tuple[int, int], str],
                          flag: str) -> None:
    """``target`` is no input (same file, or inside an input directory)."""
    ident = _identity(target)
    if ident is not None and ident in identities:
        raise OutputError(f"{target}: is the input {identities[ident]}; dedup never overwrites its input "
                          f"(choose another {flag})")
    real = _real(target)
    for item in given:
        if item.is_dir and _inside(real, item.real):
            raise OutputError(f"{target}: is inside input directory {item.given}; choose an output outside it")
        if not item.is_dir and real == item.real:
            raise OutputError(f"{target}: is the input {item.given}; dedup never overwrites its input "
                              f"(choose another {flag})")


def _check_existing(target: str, force: bool) -> bool:
    """Check what is at ``target`` now; returns whether it is streamed into (a character device
    or a FIFO, never replaced)."""
    for parent in _parents(target):
        if os.path.exists(parent):
            if not os.path.isdir(parent):
                raise OutputError(f"{target}: cannot write: {parent} is a file, not a directory")
            break
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return False
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            raise OutputError(f"{target}: cannot write: a part of the path is a file, not a directory") from None
        raise OutputError(f"{target}: cannot write: {error.strerror or error}") from None
    mode = info.st_mode
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    if stat.S_ISDIR(mode):
        raise OutputError(f"{target}: is a directory; dedup writes a file there (choose another name)")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{target}: is a {_kind(mode)}, not a regular file; dedup never replaces one")
    if not force:
        raise OutputError(f"{target}: already exists; pass --force to replace it")
    return False


def _kind(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _parents(path: str) -> Iterator[str]:
    directory = os.path.dirname(path) or "."
    while True:
        yield directory
        up = os.path.dirname(directory)
        if not up or up == directory:
            return
        directory = up


def _survey(output: str, files: Sequence[str], report: str | None) -> tuple[list[str], list[str]]:
    """Files already in the output directory that this run does not write, and dedup's own
    temporary files there (left by a killed run)."""
    wanted = {os.path.normcase(os.path.abspath(path)) for path in files}
    if report not in (None, "-"):
        wanted.add(os.path.normcase(os.path.abspath(report)))
    stale: list[str] = []
    leftovers: list[str] = []
    for root, directories, names in os.walk(output):  # symbolic links are not followed
        directories.sort()
        for name in sorted(names) + [d for d in directories if os.path.islink(os.path.join(root, d))]:
            path = os.path.join(root, name)
            if is_own_temporary(name):
                if _TEMPORARY.match(name):
                    leftovers.append(path)
                continue
            if os.path.normcase(os.path.abspath(path)) not in wanted:
                stale.append(path)
    return stale, leftovers


def _own_leftovers(target: str) -> list[str]:
    """Temporary files of ``target`` a killed run left beside it."""
    directory, name = os.path.split(target)
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    pattern = re.compile(r"^\." + re.escape(name) + r"\.[0-9a-f]{12}\.part$")
    return [os.path.join(directory, other) for other in names if pattern.match(other)]


# --------------------------------------------------------------------------- the lock


def _lock_path(path: str) -> str:
    path = path.rstrip("/" + os.sep) or path
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}{_LOCK_SUFFIX}")


@contextlib.contextmanager
def output_lock(plan: OutputCheck) -> Iterator[None]:
    """Hold a lock next to each output (file, directory and report) for the run: a second run
    writing the same output is refused with one line, instead of both writing it. Under the
    lock, the temporary files a killed run left there are removed (see :attr:`OutputCheck.leftovers`).

    The lock is a hidden file ``.NAME.dedup-lock`` beside the output, locked with ``flock`` and
    removed when the run ends; where ``flock`` is missing (Windows) it is created exclusively."""
    paths = [p for p in (plan.output, plan.report) if p not in (None, "-") and p not in plan.streams]
    with contextlib.ExitStack() as stack:
        for path in dict.fromkeys(_lock_path(p) for p in paths if p is not None):
            stack.enter_context(_locked(path))
        for leftover in plan.leftovers:
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        yield


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        fcntl = None  # type: ignore[assignment]
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{directory}: cannot write: {error.strerror or error}") from None
    output = os.path.join(directory, os.path.basename(path)[1 : -len(_LOCK_SUFFIX)])
    busy = OutputError(f"{output}: another dedup run is writing it (lock {path}); wait for it to finish, "
                       "or remove the lock file if no run is")
    while True:
        try:
            flags = os.O_RDWR | os.O_CREAT | (0 if fcntl is not None else os.O_EXCL)
            handle = os.open(path, flags, 0o600)
        except FileExistsError:
            raise busy from None
        except OSError as error:
            raise OutputError(f"{output}: cannot write: {error.strerror or error}") from None
        if fcntl is None:  # pragma: no cover
            break
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            raise busy from None
        # The file locked must still be the one at the path (a run ending removes it).
        try:
            same = os.path.samestat(os.fstat(handle), os.stat(path))
        except OSError:
            same = False
        if same:
            break
        os.close(handle)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(handle)
