"""A run's temporary files and processes never outlive it.

- :func:`private_tempdir`: the run's temporary directory (document text, segments, signatures):
  created mode 0700, named after the run's process, removed on every exit path this process sees
  (success, error, Ctrl-C, SIGTERM); one left by a run that was killed outright (SIGKILL, power
  loss) is removed by the next run, once its process is gone.
- :func:`die_with_parent`: called in each worker process; the worker exits when the run's
  process dies (Linux ``PR_SET_PDEATHSIG``; elsewhere a thread watches the parent).
- :class:`InputIdentity`: each input file's size, modification time and inode as pass 1 read
  it, checked before it is read again: a file changed between the passes is one error line.

What it leaves alone: where outputs go (:mod:`dedup.outputs`) and how they are written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dedup.errors import InputError

__all__ = ["private_tempdir", "die_with_parent", "InputIdentity"]

_PREFIX = "dedup-"
_OURS = re.compile(r"^dedup-(\d+)-[a-z0-9_]+$")


@contextlib.contextmanager
def private_tempdir(directory: str | None = None) -> Iterator[str]:
    """A temporary directory for one run, mode 0700, removed when the run ends however it ends.

    >>> with private_tempdir() as path:
    ...     oct(os.stat(path).st_mode & 0o777)
    '0o700'
    >>> os.path.exists(path)
    False
    """
    sweep_abandoned(directory)
    path = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=directory)  # mode 0700
    os.chmod(path, 0o700)  # (whatever the umask)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_abandoned(directory: str | None = None) -> list[str]:
    """Remove the temporary directories of runs whose process no longer exists (killed outright);
    returns what was removed. Only this user's directories of dedup's own name are touched."""
    root = directory or tempfile.gettempdir()
    removed: list[str] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        found = _OURS.match(entry.name)
        if not found or int(found.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_dir(follow_symlinks=False) or (uid is not None and info.st_uid != uid):
            continue
        if _alive(int(found.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def die_with_parent() -> None:
    """Make this (worker) process exit when its parent dies, also when the parent is killed
    with SIGKILL and cannot stop its workers itself."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    expected = parent.pid if parent is not None else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            _watch(expected)
    else:
        _watch(expected)
    if os.getppid() != expected:  # the parent died before the request was made
        os._exit(1)


def _watch(parent: int | None) -> None:
    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="dedup-parent-watch", daemon=True).start()


@dataclass(frozen=True)
class InputIdentity:
    """The size, modification time and inode of each input file when pass 1 read it.

    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write("one")
    >>> seen = InputIdentity.of([path])
    >>> seen.check()
    >>> _ = open(path, "a").write(" two")
    >>> seen.check()
    Traceback (most recent call last):
    dedup.errors.InputError: ...: changed while dedup was reading it (size 3 -> 7 bytes); nothing was written; ...
    """

    files: tuple[tuple[str, int, int, int, int], ...]

    @classmethod
    def of(cls, paths: Sequence[str]) -> InputIdentity:
        """The identity of ``paths`` now (``-``, stdin, is read once and kept: not listed)."""
        found = []
        for path in dict.fromkeys(paths):
            if path == "-":
                continue
            with contextlib.suppress(OSError):
                info = os.stat(path)
                found.append((path, info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev))
        return cls(tuple(found))

    def check(self, written: bool = False) -> None:
        """Raise one :class:`~dedup.errors.InputError` line naming the first file that changed
        (``written``: after outputs were written, which then cannot be trusted)."""
        after = ("the report was not written and the outputs may mix old and new text" if written
                 else "nothing was written")
        for path, size, mtime, inode, device in self.files:
            try:
                info = os.stat(path)
            except OSError:
                raise InputError(f"{path}: removed while dedup was reading it; {after}") from None
            if (info.st_ino, info.st_dev) != (inode, device):
                what = "replaced by another file"
            elif info.st_size != size:
                what = f"size {size} -> {info.st_size} bytes"
            elif info.st_mtime_ns != mtime:
                what = "modified"
            else:
                continue
            raise InputError(f"{path}: changed while dedup was reading it ({what}); {after}; "
                             "run again once it is complete")
