"""Path safety, one rule for every source family.

- Searching a folder for sessions never follows a symbolic link: a link found there is listed
  as skipped (a PATH given on the command line may be a link: its target is searched).
- A session reads only regular files inside its session folder (a run or tracking session
  folder; for a dataset or rollout file, the folder holding it). A file it would read that is
  a symbolic link resolving outside that folder, a link that leads nowhere (a loop, a missing
  target), anything but a regular file (a folder, a FIFO, a device such as `/dev/zero`), or a
  path that is not valid UTF-8 refuses the session before any of its files is opened. Links
  that stay inside the session folder are followed.

`check_session` applies the rule to every file a session reads (the run calls it before
reading a session); a family that lists folders inside a session (tracking cameras) refuses
links out of it with `link_out`.
"""

from __future__ import annotations

import stat
from pathlib import Path

from extract.errors import InputFileError, shown
from extract.sources import SessionInput, Skipped

LINK_NOT_FOLLOWED = "a symbolic link, not followed while searching (give its target as a PATH)"
# what a path that is not a regular file is, by its st_mode type test
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def present(path: Path) -> bool:
    """Whether anything is at path (a broken or looping link included): a file a session
    reads when present is then checked, never silently ignored."""
    return path.is_symlink() or path.exists()


def search_entries(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """The visible entries of a folder being searched for sessions, in name order, and the
    symbolic links among them, skipped (hidden names, starting with a dot, are ignored)."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    return (
        [p for p in entries if not p.is_symlink()],
        [Skipped(p, LINK_NOT_FOLLOWED) for p in entries if p.is_symlink()],
    )


def session_folder(session: SessionInput) -> Path:
    """The folder a session may read from: the session folder, or the one holding its file."""
    return session.path if session.path.is_dir() else session.path.parent


def link_out(path: Path, folder: Path) -> InputFileError | None:
    """The refusal of a path that resolves outside `folder` (through a symbolic link)."""
    target = path.resolve()
    if target.is_relative_to(folder.resolve()):
        return None
    return InputFileError(
        path,
        f"is a link to {shown(target)}, outside the session folder {shown(folder)}",
        "copy the data into the session folder: nothing outside it is read",
    )


def _not_utf8(path: Path) -> InputFileError | None:
    """The refusal of a path that is not valid UTF-8 (its bytes kept as surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return InputFileError(
            path,
            "the path is not valid UTF-8",
            "rename it: the warehouse records names and paths as text",
        )
    return None


def file_problem(path: Path, folder: Path) -> InputFileError | None:
    """Why a session must not read the file at path (see the module's rule), or None."""
    if refusal := _not_utf8(path):
        return refusal
    link = path.is_symlink()
    try:
        path.resolve(strict=True)
    except FileNotFoundError:
        what = "a symbolic link to a missing file" if link else "missing"
        return InputFileError(path, f"is {what}", "replace it with the file itself")
    except (OSError, RuntimeError) as exc:  # Python 3.11 raises RuntimeError for a link loop
        what = "a symbolic link loop" if link else f"unreadable ({exc})"
        return InputFileError(path, f"is {what}", "replace it with the file itself")
    if outside := link_out(path, folder):
        return outside
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return InputFileError(
        path, f"is {kind}, not a regular file", "only regular files are read: replace it"
    )


def check_session(session: SessionInput) -> None:
    """Refuse the session (raise InputFileError) when a file it reads breaks the rule."""
    if refusal := _not_utf8(session.path):
        raise refusal
    folder = session_folder(session)
    files = [*session.session_files]
    for file in session.episode_files:
        files += [file, *session.inputs_of(file)]
    for file in dict.fromkeys(files):
        if problem := file_problem(file, folder):
            raise problem
