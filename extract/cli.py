"""`python extract/run.py`: land source files in the warehouse's raw schema."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from extract.discover import Found, discover
from extract.errors import InputFileError, shown
from extract.families import FAMILIES
from extract.fingerprint import session_sha256, sha256_files
from extract.load import (
    LANDED_EPISODES,
    LANDED_FILES,
    MARKED_EPISODES,
    STALE_EPISODES,
    FileKey,
    LandedEpisode,
    file_key,
    land,
    landed_episodes,
    landed_episodes_table,
    landed_fingerprints,
    stale_episodes_table,
)
from extract.path_safety import check_session
from extract.removal_cli import COMMANDS
from extract.settings import TARGETS
from extract.warehouse import DestinationError, hold_warehouse

DESCRIPTION = """\
Land trajectory source files in the warehouse's `raw` schema (the extract-load stage).
Afterwards run `dbt build --target <target>` to rebuild the marts.

Each PATH may be a session of any of these kinds, or a folder containing sessions (searched
recursively):
{kinds}

Searching a folder follows no symbolic link (links found are listed as skipped). A session
is refused, like an invalid file, when a file it reads is a link leading out of its folder or
is not a regular file (a FIFO, a device, a folder, a link loop), and a file is refused when a
position or measurement is beyond +-1e15 (docs/sources.md, "Rules of every family").

Every file is read and checked whole before anything is written. Loading is idempotent:
files whose content is already in the warehouse are skipped (see --force), a changed file
replaces exactly the episodes landed from it (those it no longer holds are deleted), a session
whose config changed has its episodes rebuilt by the next dbt build, and nothing is ever
duplicated. Nothing is removed because it is missing from a PATH: see `remove` and `sync`.
A run lands whole or not at all: its rows reach the raw tables together, in one transaction
(Spark: the lake's files of a run are read once its one commit file is written).

One run at a time per warehouse: a run started while another one lands (or, on DuckDB,
while any process has the warehouse file open, such as a dbt build) waits for it, saying
which one it waits for.
"""

EPILOG = """\
connection settings (environment):
  TRACKING_DUCKDB_PATH   DuckDB warehouse file (default: warehouse/tracking.duckdb in the repo)
  PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE
                         Postgres server (defaults: 127.0.0.1, 5432, postgres, empty,
                         tracking); the database is created when missing.
  TRACKING_LAKE          Spark: the lake the raw parquet goes to, a folder or an fsspec URL
                         (default: warehouse/lake in the repo)

exit status:
  0  everything found was landed (with --skip-invalid: every valid file was landed)
  1  an input file is invalid: nothing was landed (the message names the file and problem)
  2  bad command line
  3  the warehouse could not be reached or written: nothing was landed

other commands (each with its own --help):
  python extract/run.py remove --session NAME [--episode ID ...] [--dry-run]
                         remove a session, or some of its episodes, from the warehouse
  python extract/run.py sync PATH [PATH ...] [--dry-run]
                         remove what was landed from PATH and is gone from it
  python extract/run.py watch PATH [PATH ...] [--every SECONDS]
                         land what is new or changed and dbt build, every SECONDS
  (a PATH named like a command is given as ./remove, ./sync or ./watch)

examples:
  python extract/run.py sample_data/
  python extract/run.py --target postgres runs/flock-started-20250101-120000
  python extract/run.py --target spark runs/   # then: dbt build --target spark
  python extract/run.py --check runs/          # validate only, write nothing
"""


@dataclass
class Report:
    """What a run did, for the summary."""

    sessions: int = 0
    episodes: int = 0
    unchanged: int = 0
    marked: int = 0
    refused: list[InputFileError] = field(default_factory=list)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python extract/run.py",
        description=DESCRIPTION.format(
            kinds="\n".join(f"  - {f.name}: {f.description}" for f in FAMILIES)
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="inputs to land")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="duckdb",
        help="warehouse to land in, as in profiles.yml (default: duckdb)",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="land the valid files and list the refused ones, instead of landing nothing "
        "when any file is invalid (exit status 1 if anything was refused)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="land every file again, even those whose content is already in the warehouse "
        "(by default unchanged files are skipped)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="read and validate every input, write nothing",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="list only the files landed or refused (under their session's name), and the "
        "summary only when there are any",
    )
    return parser


def _landed_file(family: str, session: str, key: str, file: Path, sha256: str) -> pa.Table:
    """The `landed_files` bookkeeping row of a source file."""
    return pa.table(
        {
            "family": [family],
            "session_name": [session],
            "file_name": [key],
            "file_sha256": [sha256],
            "file_size_bytes": pa.array([file.stat().st_size], pa.int64()),
        }
    )


# A session's landed episodes (episode id -> its landed_episodes row), by (family, session name).
SessionEpisodes = dict[tuple[str, str], dict[int, LandedEpisode]]


def _by_session(episodes: list[LandedEpisode]) -> SessionEpisodes:
    grouped: SessionEpisodes = {}
    for episode in episodes:
        grouped.setdefault((episode.family, episode.session_name), {})[episode.episode_id] = episode
    return grouped


def _stale(before: dict[int, LandedEpisode], key: str, episodes: pa.Table) -> set[int]:
    """The episodes landed from a file before that the file no longer holds."""
    now = set(episodes.column("episode_id").to_pylist())
    return {e for e, landed in before.items() if landed.file_name == key and e not in now}


def _marked_for_rebuild(
    before: dict[int, LandedEpisode], session_sha: str, files_read: set[str]
) -> list[LandedEpisode]:
    """The session's landed episodes, of files not landed again in this run, that were built
    with another version of the session's row (its config changed)."""
    return [
        landed
        for landed in before.values()
        if landed.file_name not in files_read and landed.session_sha256 != session_sha
    ]


def _read_all(
    found: Found,
    report: Report,
    options: argparse.Namespace,
    landed: dict[FileKey, str],
    episodes: SessionEpisodes,
) -> Iterator[tuple[str, pa.Table]]:
    """Read every input in order, printing progress per file (--quiet: per file landed or
    refused, under its session's name). Files whose fingerprint equals the landed one are
    skipped (unless --force). A file landed again replaces all the episodes
    landed from it before (those it no longer holds are deleted). A session's own row follows
    its episodes, and only when at least one of them is in the warehouse; when it changed, its
    other episodes are marked for rebuild."""
    total = found.num_files
    done = 0
    header: list[str] = []  # the session's name, until a line is printed under it

    def say(line: str) -> None:
        print(*header, line, sep="\n", flush=True)
        header.clear()

    def refuse(error: InputFileError) -> None:
        if not options.skip_invalid:
            raise error
        report.refused.append(error)
        say(f"  refused: {error}")

    for family, session in found.sessions:
        files = session.episode_files
        name = session.path.name
        header[:] = [f"{family.name} session {shown(name)} ({len(files)} episode file(s))"]
        if not options.quiet:
            say(header.pop())
            for skipped in session.skipped:
                say(f"  skipped {shown(skipped.path.relative_to(session.path))}: {skipped.reason}")
        try:
            check_session(session)
            session_row = session.session_table()
        except InputFileError as error:
            refuse(error)
            done += len(files)
            continue
        session_sha = session_sha256(session_row)
        before = episodes.get((family.name, name), {})
        files_read: set[str] = set()
        present = 0
        for file in files:
            done += 1
            started = time.perf_counter()
            sha256 = sha256_files(session.inputs_of(file))
            key = file_key(session.path, file)
            if not options.force and landed.get((family.name, name, key)) == sha256:
                if not options.quiet:
                    say(f"  [{done}/{total}] {key}: unchanged, skipped")
                report.unchanged += 1
                present += 1
                continue
            try:
                tables = session.read_episode(file)
            except InputFileError as error:
                refuse(error)
                continue
            rows = tables.frames.num_rows
            stale = _stale(before, key, tables.episodes)
            notes = list(tables.notes)
            if stale:
                notes.append(f"{len(stale)} episode(s) no longer in it removed")
            say(
                f"  [{done}/{total}] {key}: {rows:,} rows "
                f"({time.perf_counter() - started:.2f} s)" + "".join(f"; {note}" for note in notes)
            )
            present += 1
            report.episodes += 1
            files_read.add(key)
            yield family.frames_table, tables.frames
            yield family.episodes_table, tables.episodes
            ids = tables.episodes.column("episode_id").to_pylist()
            pairs = [(episode_id, key) for episode_id in ids]
            yield LANDED_EPISODES, landed_episodes_table(family.name, name, pairs, session_sha)
            if stale:
                yield STALE_EPISODES, stale_episodes_table(family.name, stale)
            yield LANDED_FILES, _landed_file(family.name, name, key, file, sha256)
        if present:
            report.sessions += 1
            marked = _marked_for_rebuild(before, session_sha, files_read)
            if marked:
                say(f"  session changed: {len(marked)} episode(s) marked for rebuild")
                report.marked += len(marked)
                pairs = [(landed.episode_id, landed.file_name) for landed in marked]
                yield MARKED_EPISODES, landed_episodes_table(family.name, name, pairs, session_sha)
            yield family.sessions_table, session_row


def _loading(args: argparse.Namespace, report: Report) -> None:
    if not args.quiet or report.episodes or report.marked:
        print(f"loading into {args.target}...", flush=True)


def _waiting(message: str) -> None:
    print(f"waiting: {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the extract-load stage, or the command named first (remove, sync); returns the
    exit status. `watch` is dispatched by extract/run.py."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    return extract(_parser().parse_args(argv))[0]


def extract(args: argparse.Namespace) -> tuple[int, Report]:
    """Land (or with --check only read) the inputs of the parsed command line; returns the
    exit status and what was done."""
    started = time.perf_counter()
    try:
        found = discover(args.paths)
    except InputFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1, Report()
    if not args.quiet:
        print(
            f"found {len(found.sessions)} session(s), {found.num_files} episode file(s)", flush=True
        )
        for skipped in found.skipped:
            print(f"skipped {shown(skipped.path)}: {skipped.reason}", flush=True)
    report = Report()
    try:
        # One extract at a time per warehouse: a run holds it from before it reads what is
        # landed until its tables are published (--check writes nothing, holds nothing).
        holding = contextlib.nullcontext() if args.check else hold_warehouse(args.target, _waiting)
        with holding as held:
            for family in FAMILIES:
                family.prepare([session for _, session in found.sessions], args.target)
            landed = {} if args.check else landed_fingerprints(args.target)
            episodes = {} if args.check else _by_session(landed_episodes(args.target))
            items = _read_all(found, report, args, landed, episodes)
            if held is None:
                for _ in items:
                    pass
                counts = None
            else:
                counts = land(held, items, on_loading=lambda: _loading(args, report))
    except InputFileError as error:
        print(f"error: {error}\nnothing was landed.", file=sys.stderr)
        return 1, report
    except DestinationError as error:
        print(f"error: {error}\nnothing was landed.", file=sys.stderr)
        return 3, report
    elapsed = time.perf_counter() - started
    verb = "checked" if counts is None else "landed"
    if not args.quiet or report.episodes or report.marked or report.refused:
        print(
            f"{verb} {report.episodes} episode file(s) of {report.sessions} session(s) "
            f"in {elapsed:.1f} s; {report.unchanged} unchanged file(s) skipped"
        )
    if counts is not None and not args.quiet:
        for table, rows in sorted(counts.rows.items()):
            print(f"  raw.{table}: {rows:,} rows")
        print(f"next: dbt build --target {args.target}")
    if report.refused:
        print(f"refused {len(report.refused)} input(s):", file=sys.stderr)
        for error in report.refused:
            print(f"  {error}", file=sys.stderr)
        return 1, report
    return 0, report
