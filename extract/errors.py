"""Errors raised for bad input: each one names the file and says what to do."""

from __future__ import annotations

from pathlib import Path


class InputFileError(Exception):
    """A source file (or folder) that cannot be loaded as it is."""

    def __init__(self, path: Path | str, problem: str, hint: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.hint = hint
        text = f"{self.path}: {problem}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)
