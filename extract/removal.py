"""What leaves the warehouse, planned from what its raw tables hold: the sessions or episodes a
user names (`python extract/run.py remove`), or what was landed from a folder and is gone
from it (`python extract/run.py sync`). A plan is shown before anything is deleted; the
marts follow on the next `dbt build`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from extract.discover import Found
from extract.families import FAMILIES
from extract.load import (
    FileKey,
    LandedEpisode,
    Removal,
    file_key,
    landed_episodes,
    landed_fingerprints,
)
from extract.settings import RAW_SCHEMA
from extract.warehouse import read_raw


class RemovalError(Exception):
    """What the user asked to remove is not in the warehouse."""


class LandedSession(NamedTuple):
    """A session row of a family's raw sessions table."""

    family: str
    session_id: int
    session_name: str
    source_path: str

    @property
    def file_session_name(self) -> str:
        """Its name in the bookkeeping (landed_files, landed_episodes): the name of its path
        (a 2D dataset `X` is `X.pt` there)."""
        return Path(self.source_path).name


class LandedRawEpisode(NamedTuple):
    """An episode row of a family's raw episodes table."""

    episode_id: int
    file_name: str


@dataclass
class Holdings:
    """What the raw tables hold: sessions, their episodes, and the bookkeeping."""

    sessions: list[LandedSession]
    episodes: dict[tuple[str, int], list[LandedRawEpisode]]  # (family, session_id) -> episodes
    landed: list[LandedEpisode]
    files: set[FileKey]

    @classmethod
    def read(cls, target: str) -> Holdings:
        sessions: list[LandedSession] = []
        episodes: dict[tuple[str, int], list[LandedRawEpisode]] = {}
        for family in FAMILIES:
            table = f"{RAW_SCHEMA}.{family.sessions_table}"
            query = f"select session_id, session_name, source_path from {table}"
            rows = read_raw(target, query, [family.sessions_table])
            sessions += [LandedSession(family.name, *row) for row in rows]
            table = f"{RAW_SCHEMA}.{family.episodes_table}"
            query = f"select session_id, episode_id, file_name from {table}"
            for session_id, *episode in read_raw(target, query, [family.episodes_table]):
                episodes.setdefault((family.name, session_id), []).append(
                    LandedRawEpisode(*episode)
                )
        files = set(landed_fingerprints(target))
        return cls(sorted(sessions), episodes, landed_episodes(target), files)


@dataclass
class Going:
    """A session whose episodes (all of them, or some) leave the warehouse."""

    session: LandedSession
    episodes: list[LandedRawEpisode]
    whole: bool  # the session row goes too: none of its episodes is left
    files: set[FileKey]  # landed_files records forgotten: loading those files lands them again

    def describe(self) -> list[str]:
        """Lines of the plan for this session."""
        head = f"session {self.session.family} {self.session.session_name}: "
        if self.whole:
            return [head + f"all {len(self.episodes)} episode(s), and the session"]
        lines = [head + f"{len(self.episodes)} episode(s)"]
        lines += [
            f"  episode {e.episode_id} ({e.file_name})"
            for e in sorted(self.episodes, key=lambda e: (e.file_name, e.episode_id))
        ]
        return lines


def removal(plan: Iterable[Going]) -> Removal:
    """The raw rows a plan deletes."""
    result = Removal()
    for going in plan:
        family = going.session.family
        ids = {e.episode_id for e in going.episodes}
        result.episodes.setdefault(family, set()).update(ids)
        if going.whole:
            result.sessions.setdefault(family, set()).add(going.session.session_id)
        result.files |= going.files
    return result


def _going(holdings: Holdings, session: LandedSession, episode_ids: set[int] | None) -> Going:
    """A session's episodes (all of them when episode_ids is None) going, with the records of
    the files they were landed from (all of the session's, when the whole session goes)."""
    episodes = holdings.episodes.get((session.family, session.session_id), [])
    going = [e for e in episodes if episode_ids is None or e.episode_id in episode_ids]
    whole = episode_ids is None or (bool(going) and len(going) == len(episodes))
    name = session.file_session_name
    if whole:
        files = {key for key in holdings.files if key[:2] == (session.family, name)}
    else:
        ids = {e.episode_id for e in going}
        files = {
            (landed.family, landed.session_name, landed.file_name)
            for landed in holdings.landed
            if landed.episode_id in ids
        }
    return Going(session, going, whole, files)


def plan_remove(
    holdings: Holdings, name: str, family: str | None, episode_ids: Sequence[int]
) -> Going:
    """The named session (of the family, when given), or only the given episodes of it."""
    matches = [
        s
        for s in holdings.sessions
        if s.session_name == name and (family is None or s.family == family)
    ]
    if not matches:
        of = f" of family {family}" if family else ""
        raise RemovalError(
            f"no session named {name!r}{of} in the warehouse (the names are in "
            "marts.sessions.session_name)"
        )
    if len(matches) > 1:
        families = ", ".join(s.family for s in matches)
        raise RemovalError(
            f"sessions of several families are named {name!r} ({families}): say which with --family"
        )
    [session] = matches
    held = {e.episode_id for e in holdings.episodes.get((session.family, session.session_id), [])}
    for episode_id in episode_ids:
        if episode_id not in held:
            raise RemovalError(
                f"no episode {episode_id} in session {name!r} (the ids are in "
                "marts.episodes.episode_id)"
            )
    return _going(holdings, session, set(episode_ids) if episode_ids else None)


def plan_sync(holdings: Holdings, paths: Sequence[Path], found: Found) -> list[Going]:
    """Of the sessions landed from at or below the paths: those no longer found there go
    whole; of those found, the episodes of the files no longer in them go."""
    roots = [Path(path).expanduser().resolve() for path in paths]
    present = {(family.name, session.session_id): session for family, session in found.sessions}
    plan = []
    for landed in holdings.sessions:
        if not any(Path(landed.source_path).is_relative_to(root) for root in roots):
            continue
        session = present.get((landed.family, landed.session_id))
        if session is None:
            plan.append(_going(holdings, landed, None))
            continue
        name = landed.file_session_name
        current = {file_key(session.path, file) for file in session.episode_files}
        gone_ids = {
            e.episode_id
            for e in holdings.landed
            if (e.family, e.session_name) == (landed.family, name) and e.file_name not in current
        }
        going = _going(holdings, landed, gone_ids)
        gone_files = {
            key
            for key in holdings.files
            if key[:2] == (landed.family, name) and key[2] not in current
        }
        going.files |= gone_files
        if going.episodes or going.files:
            plan.append(going)
    return plan
