"""Find the sessions under the paths given on the command line and say which family each is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extract.errors import InputFileError
from extract.families import FAMILIES
from extract.path_safety import search_entries
from extract.sources import SessionInput, Skipped, SourceFamily


@dataclass
class Found:
    """Sessions found, each with its family, in a stable order."""

    sessions: list[tuple[SourceFamily, SessionInput]] = field(default_factory=list)
    # files of a family that are not inputs (e.g. model weights), outside any session
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def num_files(self) -> int:
        return sum(len(session.episode_files) for _, session in self.sessions)


def _walk(path: Path, found: Found) -> bool:
    """Add the sessions at or under path; True when any was found."""
    for family in FAMILIES:
        sessions = family.find(path)
        if sessions:
            found.sessions.extend((family, session) for session in sessions)
            return True
    if not path.is_dir():
        reason = next(filter(None, (family.skip(path) for family in FAMILIES)), None)
        if reason:
            found.skipped.append(Skipped(path, reason))
        return False
    children, links = search_entries(path)
    found.skipped += links
    any_found = False
    for child in children:
        any_found = _walk(child, found) or any_found
    return any_found


def discover(paths: Iterable[Path], require_inputs: bool = True) -> Found:
    """Sessions at or below each path; an error for a path that holds none (unless not
    require_inputs: then a missing path, or one without sessions, holds none). A path given
    may be a symbolic link (its target is searched); links found while searching are skipped."""
    found = Found()
    for raw_path in paths:
        path = Path(raw_path).expanduser()
        if not path.exists():
            if not require_inputs:
                continue
            raise InputFileError(path, "no such file or folder")
        if not _walk(path.resolve(), found) and require_inputs:
            kinds = "; ".join(family.description for family in FAMILIES)
            raise InputFileError(
                path, "no recognised input found", f"expected, at or below it: {kinds}"
            )
    unique: dict[tuple[str, Path], tuple[SourceFamily, SessionInput]] = {}
    names: dict[tuple[str, str], Path] = {}
    for family, session in found.sessions:
        key = (family.name, session.path.name)
        if key in names and names[key] != session.path:
            raise InputFileError(
                session.path,
                f"a session with the same name was also given at {names[key]}",
                "session ids come from names; load one of them",
            )
        names[key] = session.path
        unique[(family.name, session.path)] = (family, session)
    found.sessions = list(unique.values())
    return found
