"""`python extract/run.py remove` and `python extract/run.py sync`: take sessions or episodes
out of the warehouse's raw schema, always listing what goes first (--dry-run: only that)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from extract.discover import discover
from extract.errors import InputFileError
from extract.load import delete
from extract.removal import Going, Holdings, RemovalError, plan_remove, plan_sync, removal
from extract.settings import TARGETS
from extract.warehouse import DestinationError

REMOVE_DESCRIPTION = """\
Remove a session, or some of its episodes, from the warehouse's `raw` schema: every raw row of
them, and the record of the files they were landed from. Then run `dbt build --target
<target>`: the marts follow (the per-episode marts delete the episodes' rows).

What goes is listed first; with --dry-run nothing else happens. Loading the files again
(`python extract/run.py PATH`) lands them again: delete or move the files to keep them out,
or use `sync` after deleting them.
"""

SYNC_DESCRIPTION = """\
Remove from the warehouse's `raw` schema what was landed from at or below each PATH and is
gone from it: a session no longer found there (its folder or file deleted, renamed or moved
elsewhere) goes whole; of a session still there, the episodes of the files no longer in it go.
A PATH that no longer exists holds nothing: everything landed from it goes. What was landed
from elsewhere is not touched, and nothing is landed: land new and changed files with
`python extract/run.py PATH`. Then run `dbt build --target <target>`: the marts follow.

What goes is listed first; with --dry-run nothing else happens.
"""

EXIT_STATUS = """\
connection settings (environment): as for loading, see `python extract/run.py --help`.

exit status:
  0  removed (with --dry-run: listed), or nothing to remove
  1  {problem}: nothing was removed
  2  bad command line
  3  the warehouse could not be reached or written: nothing was removed
"""

REMOVE_EPILOG = (
    EXIT_STATUS.format(problem="the warehouse holds no such session or episode")
    + """
examples:
  python extract/run.py remove --session flock-started-20250101-120000 --dry-run
  python extract/run.py remove --session boids_2d --episode 1234567890123 --target postgres
"""
)

SYNC_EPILOG = (
    EXIT_STATUS.format(problem="a session under a PATH cannot be read as one")
    + """
examples:
  python extract/run.py sync runs/ --dry-run
  python extract/run.py sync --target postgres runs/ && python extract/run.py --target postgres runs/
"""
)


def _parser(command: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A command's parser with the options every command has."""
    parser = argparse.ArgumentParser(
        prog=f"python extract/run.py {command}",
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="duckdb",
        help="warehouse to remove from, as in profiles.yml (default: duckdb)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, remove nothing"
    )
    return parser


def _remove_parser() -> argparse.ArgumentParser:
    parser = _parser("remove", REMOVE_DESCRIPTION, REMOVE_EPILOG)
    parser.add_argument(
        "--session",
        required=True,
        metavar="NAME",
        help="the session, by its name (marts.sessions.session_name)",
    )
    parser.add_argument(
        "--family",
        metavar="FAMILY",
        help="the session's family (category id), when sessions of several families have that name",
    )
    parser.add_argument(
        "--episode",
        type=int,
        action="append",
        default=[],
        metavar="ID",
        help="remove only this episode of the session (marts.episodes.episode_id); may be "
        "repeated. Without it the whole session goes",
    )
    return parser


def _sync_parser() -> argparse.ArgumentParser:
    parser = _parser("sync", SYNC_DESCRIPTION, SYNC_EPILOG)
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="folders (or session files) whose landed sessions to compare with what they hold",
    )
    return parser


def _apply(plan: list[Going], target: str, dry_run: bool) -> None:
    """List what goes, then (unless a dry run) delete it."""
    if not plan:
        print("nothing to remove")
        return
    for going in plan:
        print("\n".join(going.describe()))
    if dry_run:
        print("dry run: nothing was removed")
        return
    delete(target, removal(plan))
    episodes = sum(len(going.episodes) for going in plan)
    print(f"removed {episodes} episode(s) of {len(plan)} session(s) from {target}")
    print(f"next: dbt build --target {target}")


def _run(plan: Callable[[], list[Going]], target: str, dry_run: bool) -> int:
    """Plan and apply; the exit status."""
    try:
        _apply(plan(), target, dry_run)
    except (RemovalError, InputFileError) as error:
        print(f"error: {error}\nnothing was removed.", file=sys.stderr)
        return 1
    except DestinationError as error:
        print(f"error: {error}\nnothing was removed.", file=sys.stderr)
        return 3
    return 0


def remove_main(argv: list[str]) -> int:
    """`python extract/run.py remove`; returns the exit status."""
    args = _remove_parser().parse_args(argv)

    def plan() -> list[Going]:
        holdings = Holdings.read(args.target)
        return [plan_remove(holdings, args.session, args.family, args.episode)]

    return _run(plan, args.target, args.dry_run)


def sync_main(argv: list[str]) -> int:
    """`python extract/run.py sync`; returns the exit status."""
    args = _sync_parser().parse_args(argv)

    def plan() -> list[Going]:
        found = discover(args.paths, require_inputs=False)
        return plan_sync(Holdings.read(args.target), args.paths, found)

    return _run(plan, args.target, args.dry_run)


COMMANDS: dict[str, Callable[[list[str]], int]] = {"remove": remove_main, "sync": sync_main}
