"""Errors raised for bad input: each one names the file and says what to do."""

from __future__ import annotations

from pathlib import Path


def shown(path: Path | str) -> str:
    """A path as text that can always be printed: bytes of a name that are not UTF-8 (which
    Python keeps as surrogates) are written as `\\xNN` escapes."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class InputFileError(Exception):
    """A source file (or folder) that cannot be loaded as it is."""

    def __init__(self, path: Path | str, problem: str, hint: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.hint = hint
        text = f"{shown(self.path)}: {problem}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)
