"""`python extract/run.py watch`: land what is new or changed under PATHs and build the marts,
again every few seconds, with dbt kept in this process between builds."""

from __future__ import annotations

import argparse
import gc
import time
from collections import Counter
from pathlib import Path

from extract.cli import Report, extract
from extract.settings import REPO_ROOT

DESCRIPTION = """\
Watch PATHs (as `python extract/run.py PATH ...` takes them) and keep the marts up to date: in
each round, land what is new or changed (unchanged files are skipped, invalid ones refused and
listed, the valid ones landed: as --skip-invalid), and when anything was landed, run the
production `dbt build` (models, seeds and data tests; the first round always builds). Then wait
--every seconds and start again, until interrupted (Ctrl-C) or --rounds are done.

What this saves over running the two commands each time is their start-up: dbt is imported
and the project parsed once, and kept in this process between builds (parsed again when a file
of the project changes), which is most of what a build of one new episode costs
(docs/benchmarks.md, "Fixed costs of a small build"). Between rounds the watcher holds no
connection: on DuckDB other programs can open the warehouse file while it waits.

A round lists only the files it landed or refused; a refused file is listed again each round
until it is fixed or removed (a file still being written when a round reads it is refused in
that round and landed in the next). Nothing is removed from the warehouse because it is missing
from a PATH: see `python extract/run.py sync`.
"""

EPILOG = """\
connection settings (environment): as for loading, see `python extract/run.py --help`.

exit status (with --rounds; interrupted: 0):
  0  the last round landed and built everything it found
  1  the last round refused an input file or its dbt build failed
  2  bad command line
  3  the last round could not reach or write the warehouse

examples:
  python extract/run.py watch runs/
  python extract/run.py watch --target postgres --every 300 runs/ tracking/
"""

# The sources of dbt's parsed project: a change to any of them is parsed again.
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_FOLDER = "dbt_project"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python extract/run.py watch",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="inputs to watch")
    parser.add_argument(
        "--target",
        choices=("duckdb", "postgres"),
        default="duckdb",
        help="warehouse to keep up to date, as in profiles.yml (default: duckdb)",
    )
    parser.add_argument(
        "--every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds from the end of a round to the start of the next (default: 60)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="stop after N rounds (default: until interrupted)",
    )
    return parser


def _project_state() -> list[tuple[str, int, int]]:
    """Each project file's path, modification time and size."""
    files = [REPO_ROOT / name for name in PROJECT_FILES]
    files += sorted(p for p in (REPO_ROOT / PROJECT_FOLDER).rglob("*") if p.is_file())
    return [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.exists()]


class Builder:
    """The production `dbt build` of one target, run in this process with the project parsed
    once and again only when a file of the project changed."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.args = [
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
            "--target",
            target,
            "--quiet",
        ]
        self.manifest = None
        self.state: list[tuple[str, int, int]] = []

    def build(self) -> bool:
        """Build; prints dbt's errors and a one-line count of the nodes. True if all passed."""
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        state = _project_state()
        if self.manifest is None or state != self.state:
            print("dbt: parsing the project", flush=True)
            parsed = dbtRunner().invoke(["parse", *self.args])
            self._release()
            if not parsed.success:
                print(f"dbt parse failed: {parsed.exception or 'see the errors above'}")
                self.manifest = None
                return False
            self.manifest, self.state = parsed.result, state
        result = dbtRunner(manifest=self.manifest).invoke(
            ["build", *self.args, "--exclude-resource-type", "unit_test"]
        )
        self._release()
        seconds = time.perf_counter() - started
        if result.result is None:
            print(f"dbt build failed ({seconds:.1f} s): {result.exception}", flush=True)
            return False
        # as dbt's own summary counts them: a model built and a test passed are both PASS
        counts = Counter(
            "PASS" if str(node.status) == "success" else str(node.status).upper()
            for node in result.result.results
        )
        summary = " ".join(f"{status}={n}" for status, n in sorted(counts.items()))
        print(f"dbt build: {summary} in {seconds:.1f} s ({time.strftime('%H:%M:%S')})", flush=True)
        return result.success

    def _release(self) -> None:
        """Close dbt's DuckDB database, which dbt-duckdb keeps open in the process after a
        command: the next round's extract (and any other program) opens the file."""
        if self.target == "duckdb":
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager

            DuckDBConnectionManager.close_all_connections()
            gc.collect()


def _round(number: int, options: argparse.Namespace, builder: Builder) -> int:
    """Land, then build if anything was landed (always in the first round); the exit status."""
    args = argparse.Namespace(
        paths=options.paths,
        target=options.target,
        skip_invalid=True,
        force=False,
        check=False,
        quiet=True,
    )
    # folders with nothing in them yet (a watch started before the first run) hold no news
    empty = all(path.is_dir() and not any(path.iterdir()) for path in options.paths)
    status, report = (0, Report()) if empty else extract(args)
    if status == 3:
        return status
    if number > 1 and not _landed(report):
        return status
    return status if builder.build() else 1


def _landed(report: Report) -> bool:
    return bool(report.episodes or report.marked)


def main(argv: list[str]) -> int:
    options = _parser().parse_args(argv)
    builder = Builder(options.target)
    print(f"watching {', '.join(map(str, options.paths))} (Ctrl-C stops)", flush=True)
    status = 0
    number = 0
    try:
        while options.rounds is None or number < options.rounds:
            number += 1
            status = _round(number, options, builder)
            if options.rounds is None or number < options.rounds:
                time.sleep(options.every)
    except KeyboardInterrupt:
        print("stopped")
        return 0
    return status
