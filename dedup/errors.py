"""The error hierarchy. Every error a user can cause is a :class:`DedupError`.

The CLI turns these into a one-line message on stderr and a non-zero exit code; the library
raises them as they are. Messages say what was wrong, where, and how to fix it.
"""

from __future__ import annotations

__all__ = ["DedupError", "ConfigError", "InputError", "OutputError", "Interrupted"]


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""

    exit_code = 1


class ConfigError(DedupError, ValueError):
    """An option has a value outside its allowed range, or two options conflict.

    ``setting`` names the setting at fault (``num_perm``), when there is one, so that the CLI
    can name its flag (``--num-perm``) instead.
    """

    exit_code = 2

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class InputError(DedupError):
    """An input cannot be read: missing, undecodable, malformed, or of the wrong schema."""


class OutputError(DedupError):
    """An output cannot be written: unwritable, full disk, or it would overwrite an input."""


class Interrupted(DedupError):
    """The run was stopped by a signal; no partial output was left behind."""

    exit_code = 130
