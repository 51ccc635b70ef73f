"""Source families. Each module describes one family of input files as a `SourceFamily`:
how to recognise its sessions under a path, how each raw table is written, and how to read
a session and its episode files into pyarrow tables for dlt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa


class SessionInput(Protocol):
    """One session found on disk: a run folder, a dataset file, a tracking session folder."""

    @property
    def path(self) -> Path: ...

    @property
    def episode_files(self) -> Sequence[Path]:
        """The files that become episodes, in episode order."""
        ...

    def inputs_of(self, file: Path) -> Sequence[Path]:
        """Every file the rows of an episode file are read from (the file itself, and e.g. a
        config it depends on): their fingerprint decides whether it is landed again."""
        ...

    def session_table(self) -> pa.Table:
        """The session's one-row raw table (raises InputFileError on bad input)."""
        ...

    def read_episode(self, file: Path) -> list[tuple[str, pa.Table]]:
        """(raw table name, rows) of one episode file, read and checked whole (raises
        InputFileError on bad input). A file may hold several episodes (a 2D dataset file holds
        one per sample): the rows of all of them are returned."""
        ...


@dataclass(frozen=True)
class SourceFamily:
    """A source family: its name, raw tables and how to find its sessions."""

    name: str
    description: str
    session_table_name: str
    # raw table name -> dlt merge hints (primary_key for per-session/episode rows,
    # merge_key=episode_id for rows replaced per episode)
    table_hints: dict[str, dict[str, str]]
    # the sessions at exactly this path (a folder or a file), or [] if it is not one
    find: Callable[[Path], list[SessionInput]]
