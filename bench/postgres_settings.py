"""Postgres server settings for this workload, measured (docs/benchmarks.md, "Postgres server
settings").

Starts a private PostgreSQL server (initdb into a temporary folder, as the `postgres` system
user when run as root, on --port), never touching the server of the PG* variables. Then, in
each round, for each profile in turn (the profiles interleaved, the server restarted with the
profile's settings): W1 of bench/run.py (one run folder of 10 episodes of 3,001 frames x 30
agents, generated into --data once) landed by `python extract/run.py` and built by the
production `dbt build --exclude-resource-type unit_test` into a fresh database, timed, with
the slowest nodes of the build (run_results.json), the WAL the server wrote (pg_stat_wal:
bytes, full-page images) and its checkpoints (pg_stat_bgwriter: requested because the WAL
reached max_wal_size, and timed), counted from zero for each run. The markdown report goes to --out and
stdout.

Profiles: `default` (the server's own defaults), `production` (the settings docker-compose.yml
runs its Postgres service with) and `production+minimal-wal` (plus wal_level=minimal: no WAL for the
tables a transaction creates and fills, at the cost of replication and point-in-time
recovery).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import yaml

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.run import (  # noqa: E402
    Stage,
    bench_parser,
    generate,
    load,
    warehouse,
    write_report,
)
from extract.settings import REPO_ROOT, PostgresSettings  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")

# One measured run: extract, dbt build, the slowest nodes, the server's counters.
Run = tuple[Stage, Stage, list[tuple[str, float]], tuple[float, ...]]


def compose_settings() -> dict[str, str]:
    """The production profile: the `-c` settings of docker-compose.yml's Postgres service."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["postgres"]["command"]
    return dict(setting.split("=", 1) for setting in command[2::2])


PRODUCTION = compose_settings()
PROFILES = {
    "default": {},
    "production": PRODUCTION,
    "production+minimal-wal": {**PRODUCTION, "wal_level": "minimal", "max_wal_senders": "0"},
}


def as_postgres(command: list[str]) -> list[str]:
    """The command run as the `postgres` system user when this process is root (initdb and
    the server refuse root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def private_cluster(port: int) -> Iterator[Path]:
    """An initialised, stopped cluster in a temporary folder; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="tracking-bench-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        initdb = [str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", "postgres"]
        subprocess.run(
            as_postgres([*initdb, "-A", "trust", "--no-sync"]), check=True, capture_output=True
        )
        yield folder
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(folder, port, "stop", {})
        shutil.rmtree(folder, ignore_errors=True)


def pg_ctl(
    folder: Path, port: int, action: str, settings: dict[str, str], mode: str = "fast"
) -> None:
    """Start (with the settings) or stop the private server; `mode` is the stop's (`immediate`:
    as a crash, recovered from the WAL at the next start)."""
    options = " ".join(
        [f"-p {port}", f"-c unix_socket_directories={folder}", "-c listen_addresses=127.0.0.1"]
        + [f"-c {key}={value}" for key, value in settings.items()]
    )
    command = [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-w", "-m", mode]
    if action == "start":
        command += ["-o", options, "-l", str(folder / "server.log")]
    subprocess.run(as_postgres([*command, action]), check=True, capture_output=True)


# The server's counters a run is measured by, reset before it (pg_stat_reset_shared).
COUNTERS = (
    "select (select wal_bytes from pg_stat_wal), (select wal_fpi from pg_stat_wal), "
    "checkpoints_req, checkpoints_timed from pg_stat_bgwriter"
)


def server_counters(reset: bool) -> tuple[float, ...]:
    """WAL GiB, full-page images, requested and timed checkpoints of the private server since
    the last reset (reset them first when `reset`)."""
    connection = psycopg2.connect(**PostgresSettings.from_env().connect_kwargs("postgres"))
    connection.autocommit = True
    with contextlib.closing(connection) as conn, conn.cursor() as cur:
        if reset:
            cur.execute("select pg_stat_reset_shared('wal'), pg_stat_reset_shared('bgwriter')")
        cur.execute("select pg_stat_force_next_flush()")
        cur.execute(COUNTERS)
        wal_bytes, fpi, requested, timed = cur.fetchone()
    return (float(wal_bytes) / 1024**3, int(fpi), int(requested), int(timed))


def slowest_nodes(dbt_dir: Path, count: int = 4) -> list[tuple[str, float]]:
    """The slowest nodes of the last dbt command (run_results.json)."""
    results = json.loads((dbt_dir / "target" / "run_results.json").read_text())["results"]
    times = [(r["unique_id"].split(".", 2)[-1], r["execution_time"]) for r in results]
    return sorted(times, key=lambda item: -item[1])[:count]


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("postgres_settings.py", __doc__, "postgres_settings.md")
    parser.add_argument(
        "--profiles",
        default=",".join(PROFILES),
        help="comma-separated profiles to compare (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="builds per profile (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=55432, help="the private server's port (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    profiles = args.profiles.split(",")
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    folder = generate(args.data, 1)[0]
    os.environ.update({"PGHOST": "127.0.0.1", "PGPORT": str(args.port), "PGUSER": "postgres"})
    os.environ.pop("PGPASSWORD", None)
    runs: dict[str, list[Run]] = {p: [] for p in profiles}
    with private_cluster(args.port) as cluster, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "tracking-bench-pgsettings"
        work.mkdir()
        dbt_dir = work / "dbt"
        for round_ in range(args.rounds):
            for profile in profiles:
                print(f"round {round_ + 1}, {profile}", flush=True)
                pg_ctl(cluster, args.port, "start", PROFILES[profile])
                try:
                    server_counters(reset=True)
                    with warehouse("postgres", work) as env:
                        extract, build = load("W1", "postgres", env, [folder], dbt_dir)
                    counters = server_counters(reset=False)
                    runs[profile].append((extract, build, slowest_nodes(dbt_dir), counters))
                finally:
                    pg_ctl(cluster, args.port, "stop", {})
    report = render(runs)
    write_report(args.out, report)
    return 0


def render(runs: dict[str, list[Run]]) -> str:
    """The markdown report: per profile each run, the medians, and against `default`."""
    median = {
        p: statistics.median(e.seconds + b.seconds for e, b, _, _ in r) for p, r in runs.items()
    }
    lines = [
        "# Postgres server settings: W1 (10 episodes), files to tested marts",
        "",
        "| profile | extract s | dbt build s | total s | WAL GiB | full-page images "
        "| checkpoints requested / timed | slowest nodes (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for profile, profile_runs in runs.items():
        for extract, build, nodes, (wal, fpi, requested, timed) in profile_runs:
            slow = ", ".join(f"{name} {seconds:.1f}" for name, seconds in nodes)
            lines.append(
                f"| {profile} | {extract.seconds:.1f} | {build.seconds:.1f} "
                f"| {extract.seconds + build.seconds:.1f} | {wal:.2f} | {fpi:,} "
                f"| {requested} / {timed} | {slow} |"
            )
    lines += ["", "| profile | median total s | vs default |", "|---|---|---|"]
    for profile, seconds in median.items():
        ratio = f"{median['default'] / seconds:.2f}x" if "default" in median else ""
        lines.append(f"| {profile} | {seconds:.1f} | {ratio} |")
    settings = ", ".join(f"{key}={value}" for key, value in PRODUCTION.items())
    lines += ["", f"production: {settings}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
