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
from extract.errors import InputFileError
from extract.families import FAMILIES
from extract.fingerprint import sha256_files
from extract.load import LANDED_FILES, FileKey, land, landed_fingerprints
from extract.settings import TARGETS
from extract.warehouse import DestinationError, hold_warehouse

DESCRIPTION = """\
Land trajectory source files in the warehouse's `raw` schema (the extract-load stage).
Afterwards run `dbt build --target <target>` to rebuild the marts.

Each PATH may be a session of any of these kinds, or a folder containing sessions (searched
recursively):
{kinds}

Every file is read and checked whole before anything is written. Loading is idempotent:
files whose content is already in the warehouse are skipped (see --force), a changed file
replaces exactly its episode's rows, and nothing is ever duplicated. A run lands whole or
not at all: its rows reach the raw tables together, in one transaction.

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

exit status:
  0  everything found was landed (with --skip-invalid: every valid file was landed)
  1  an input file is invalid: nothing was landed (the message names the file and problem)
  2  bad command line
  3  the warehouse could not be reached or written: nothing was landed

examples:
  python extract/run.py sample_data/
  python extract/run.py --target postgres runs/flock-started-20250101-120000
  python extract/run.py --check runs/          # validate only, write nothing
"""


@dataclass
class Report:
    """What a run did, for the summary."""

    sessions: int = 0
    episodes: int = 0
    unchanged: int = 0
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
    return parser


def _file_key(session: Path, file: Path) -> str:
    """How the bookkeeping names a source file: its path inside the session folder (camera
    folders included), or its name when the file is the session itself (a 2D dataset)."""
    return (
        file.relative_to(session).as_posix()
        if file.is_relative_to(session) and file != session
        else file.name
    )


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


def _read_all(
    found: Found, report: Report, options: argparse.Namespace, landed: dict[FileKey, str]
) -> Iterator[tuple[str, pa.Table]]:
    """Read every input in order, printing progress per file. Files whose fingerprint equals
    the landed one are skipped (unless --force). A session's own row follows its episodes,
    and only when at least one of them is in the warehouse."""
    total = found.num_files
    done = 0

    def refuse(error: InputFileError) -> None:
        if not options.skip_invalid:
            raise error
        report.refused.append(error)
        print(f"  refused: {error}", flush=True)

    for family, session in found.sessions:
        files = session.episode_files
        name = session.path.name
        print(f"{family.name} session {name} ({len(files)} episode file(s))", flush=True)
        for skipped in session.skipped:
            print(f"  skipped {skipped.path.relative_to(session.path)}: {skipped.reason}")
        try:
            session_row = session.session_table()
        except InputFileError as error:
            refuse(error)
            done += len(files)
            continue
        present = 0
        for file in files:
            done += 1
            started = time.perf_counter()
            sha256 = sha256_files(session.inputs_of(file))
            key = _file_key(session.path, file)
            if not options.force and landed.get((family.name, name, key)) == sha256:
                print(f"  [{done}/{total}] {key}: unchanged, skipped", flush=True)
                report.unchanged += 1
                present += 1
                continue
            try:
                tables = session.read_episode(file)
            except InputFileError as error:
                refuse(error)
                continue
            rows = tables.frames.num_rows
            print(
                f"  [{done}/{total}] {key}: {rows:,} rows "
                f"({time.perf_counter() - started:.2f} s)"
                + "".join(f"; {note}" for note in tables.notes),
                flush=True,
            )
            present += 1
            report.episodes += 1
            yield family.frames_table, tables.frames
            yield family.episodes_table, tables.episodes
            yield LANDED_FILES, _landed_file(family.name, name, key, file, sha256)
        if present:
            report.sessions += 1
            yield family.sessions_table, session_row


def _waiting(message: str) -> None:
    print(f"waiting: {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the extract-load stage; returns the exit status."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        found = discover(args.paths)
    except InputFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"found {len(found.sessions)} session(s), {found.num_files} episode file(s)", flush=True)
    for skipped in found.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", flush=True)
    report = Report()
    try:
        # One extract at a time per warehouse: a run holds it from before it reads what is
        # landed until its tables are published (--check writes nothing, holds nothing).
        holding = contextlib.nullcontext() if args.check else hold_warehouse(args.target, _waiting)
        with holding as held:
            for family in FAMILIES:
                family.prepare([session for _, session in found.sessions], args.target)
            landed = {} if args.check else landed_fingerprints(args.target)
            items = _read_all(found, report, args, landed)
            if held is None:
                for _ in items:
                    pass
                counts = None
            else:
                counts = land(
                    held,
                    items,
                    on_loading=lambda: print(f"loading into {args.target}...", flush=True),
                )
    except InputFileError as error:
        print(f"error: {error}\nnothing was landed.", file=sys.stderr)
        return 1
    except DestinationError as error:
        print(f"error: {error}\nnothing was landed.", file=sys.stderr)
        return 3
    elapsed = time.perf_counter() - started
    verb = "checked" if counts is None else "landed"
    print(
        f"{verb} {report.episodes} episode file(s) of {report.sessions} session(s) "
        f"in {elapsed:.1f} s; {report.unchanged} unchanged file(s) skipped"
    )
    if counts is not None:
        for table, rows in sorted(counts.rows.items()):
            print(f"  raw.{table}: {rows:,} rows")
        print(f"next: dbt build --target {args.target}")
    if report.refused:
        print(f"refused {len(report.refused)} input(s):", file=sys.stderr)
        for error in report.refused:
            print(f"  {error}", file=sys.stderr)
        return 1
    return 0
