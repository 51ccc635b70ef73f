"""Source families. Each module describes one family of input files as a `SourceFamily`:
how to recognise its sessions under a path, and how to read a session and its episode files
into pyarrow tables for dlt. A family's name is its category id; its raw tables are named
from it (`<name>_sessions`, `<name>_episodes`, `<name>_frames`), with their keys here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import pyarrow as pa


class Skipped(NamedTuple):
    """A file found under a searched path that is not an input, and why."""

    path: Path
    reason: str


class EpisodeRows(NamedTuple):
    """The raw rows of one episode file: its frames, one episodes row per episode in it, and
    notes the run prints with the file (e.g. rows counted but not landed)."""

    frames: pa.Table
    episodes: pa.Table
    notes: tuple[str, ...] = ()


class SessionInput(Protocol):
    """One session found on disk: a run folder, a dataset file, a tracking session folder."""

    @property
    def path(self) -> Path: ...

    @property
    def session_id(self) -> int:
        """The session's id (extract.ids.stable_id of the family and the session's name)."""
        ...

    @property
    def episode_files(self) -> Sequence[Path]:
        """The files that become episodes, in episode order."""
        ...

    @property
    def session_files(self) -> Sequence[Path]:
        """The files the session's own row is read from besides its episode files and their
        inputs (a config.yaml, a metadata file): the run checks them all before reading any
        (extract/path_safety.py)."""
        ...

    @property
    def skipped(self) -> Sequence[Skipped]:
        """Files in the session that are not inputs, each with the reason: the run lists them."""
        ...

    def inputs_of(self, file: Path) -> Sequence[Path]:
        """Every file the rows of an episode file are read from (the file itself, and e.g. a
        config it depends on): their fingerprint decides whether it is landed again."""
        ...

    def session_table(self) -> pa.Table:
        """The session's one-row raw table (raises InputFileError on bad input)."""
        ...

    def read_episode(self, file: Path) -> EpisodeRows:
        """The rows of one episode file, read and checked whole (raises InputFileError on bad
        input). A file may hold several episodes (a 2D dataset file holds one per sample)."""
        ...


@dataclass(frozen=True)
class SourceFamily:
    """A source family: its name (the category id), how to describe and find its sessions."""

    name: str
    description: str
    # the sessions at exactly this path (a folder or a file), or [] if it is not one
    find: Callable[[Path], list[SessionInput]]
    # why a file that belongs to the family but is not an input (e.g. model weights beside a
    # rollout) is skipped, or None: such a file is listed, never read or refused
    skip: Callable[[Path], str | None] = lambda path: None
    # called once per run before anything is read, with every session found (of every
    # family) and the target warehouse (None: no warehouse): for sessions that depend on
    # other inputs (a rollout on its 2D dataset)
    prepare: Callable[[Sequence[SessionInput], str | None], None] = lambda sessions, target: None

    @property
    def sessions_table(self) -> str:
        return f"{self.name}_sessions"

    @property
    def episodes_table(self) -> str:
        """One row per episode (with its episode_id): what dbt rebuilds per episode."""
        return f"{self.name}_episodes"

    @property
    def frames_table(self) -> str:
        return f"{self.name}_frames"

    @property
    def raw_tables(self) -> dict[str, dict[str, str]]:
        """Raw table name -> dlt merge keys: sessions and episodes rows are merged on their
        ids, frames are replaced per episode (merge_key episode_id)."""
        return {
            self.sessions_table: {"primary_key": "session_id"},
            self.episodes_table: {"primary_key": "episode_id"},
            self.frames_table: {"merge_key": "episode_id"},
        }
