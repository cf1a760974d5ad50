"""Project error classes.

Every problem with a user's input is raised as a subclass of :class:`MtncrnaError`. The command
line turns these (and only these) into one line on stderr and exit code 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

from os import PathLike


class MtncrnaError(Exception):
    """Base class of all errors mtncrna raises about its inputs or parameters."""


class InputError(MtncrnaError):
    """A file could not be read as what it was expected to be.

    The message names the file and, where it applies, the line and the column, then what was
    expected and what was found.
    """

    def __init__(
        self,
        path: str | PathLike[str] | None,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.detail = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class FormatError(InputError):
    """The file's format is unknown, or is not the format that was asked for."""


class SampleSheetError(InputError):
    """The sample sheet is malformed or does not match the count table."""


class UnmatchedSamplesError(SampleSheetError):
    """Some samples are in the count table or the sample sheet but not in both.

    ``mismatch`` says which; ``n_both`` is how many samples are in both, which the caller may keep
    when the user asks for it (``--drop-unmatched`` on the command line, ``drop_unmatched: true``
    in a run config; ``hint`` is how the caller names that option).
    """

    def __init__(
        self,
        path: str | PathLike[str] | None,
        mismatch: str,
        n_both: int,
        *,
        hint: str = "--drop-unmatched",
    ) -> None:
        self.mismatch = mismatch
        self.n_both = n_both
        super().__init__(path, f"{mismatch}; use {hint} to keep the {n_both} samples in both")

    def with_hint(self, hint: str) -> UnmatchedSamplesError:
        """The same error, naming the option as ``hint``."""
        return UnmatchedSamplesError(self.path, self.mismatch, self.n_both, hint=hint)


class DesignError(MtncrnaError):
    """A design whose model matrix cannot be fitted (confounded terms, a level with no sample)."""


class ReferenceDataError(MtncrnaError):
    """The mtncRNA reference (bundled or a user's extension) is invalid."""


class OutputError(MtncrnaError):
    """An output cannot be written where it was asked for (e.g. it would overwrite an input)."""
