"""Benchmark the load path, files to tested marts, on each target (docs/benchmarks.md).

Workloads: 3D boids episodes of 3,001 frames x 30 agents, in run folders of 10 episodes
(W0's of 1), generated once into --data and reused:
  W0  1 episode into an empty warehouse (the reference for W3)
  W1  1 run folder (10 episodes) into an empty warehouse
  W2  --w2-duckdb / --w2-postgres episodes into an empty warehouse
  W3  W2's folders again plus W0's episode, into the W2 warehouse: unchanged files are
      skipped, one episode is built incrementally

Timed per target and workload: `python extract/run.py` and the production `dbt build
--exclude-resource-type unit_test` (wall time, peak RSS of the command and its children; rows
of observations + extended_properties). dbt's full parse is timed once per target before, so
that the timed builds parse partially, as daily builds do. On the W2 warehouse: four
access-path queries for one episode and, on Postgres, every Grafana panel's query with the
Grafana role's login settings (median of 3 each). The naive baseline (bench/baseline.py,
pandas to_sql of one episode) runs in the same run on each target: its rows/s applied to a
workload's rows gives the "vs baseline" column. The markdown report goes to --out and stdout.

Every warehouse is fresh: on DuckDB a file in a temporary folder, on Postgres a database
`tracking_bench_<id>` on the server of the PG* variables (README), dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import duckdb  # noqa: E402
import psycopg2  # noqa: E402
from psycopg2 import sql  # noqa: E402

from extract.ids import stable_id  # noqa: E402
from extract.samples.boids_3d import RunSpec, write_run_folder  # noqa: E402
from extract.settings import REPO_ROOT, PostgresSettings  # noqa: E402
from extract.temporary import temporarily_set  # noqa: E402
from grafana import panel_queries  # noqa: E402

FRAMES, AGENTS, PER_SESSION = 3000, 30, 10  # FRAMES as the simulator counts: frames 0..3000
EXTRA = RunSpec(
    num_episodes=1, num_frames=FRAMES, num_agents=AGENTS, seed=9999, prefix="bench-extra"
)
BIN = Path(sys.executable).parent


@dataclass
class Stage:
    """One timed command."""

    workload: str
    target: str
    stage: str
    seconds: float
    peak_rss_mib: float
    rows: int = 0


# Runs a command and prints its peak RSS (KiB). The command is started from this small
# process, not from the benchmark itself: a forked child inherits its parent's high-water mark,
# so measuring from the benchmark (which holds the baseline's data) would floor every figure.
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def measure(
    workload: str, target: str, stage: str, command: list[str], env: dict[str, str]
) -> Stage:
    """Run a command; wall time and peak RSS (of the command and its children)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(
            f"{workload}/{target}/{stage} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    peak_mib = int(result.stderr.strip().splitlines()[-1]) / 1024
    print(f"  {workload:3} {target:8} {stage:8} {seconds:8.1f} s  {peak_mib:7.0f} MiB", flush=True)
    return Stage(workload, target, stage, seconds, peak_mib)


def session_spec(index: int) -> RunSpec:
    return RunSpec(
        num_episodes=PER_SESSION,
        num_frames=FRAMES,
        num_agents=AGENTS,
        seed=1000 * index,
        prefix=f"bench-{index:03d}",
        started="20250101-120000",
    )


def generate(data: Path, sessions: int) -> list[Path]:
    """Session folders 0..sessions-1 (10 episodes each) plus the extra one; reused if present."""
    folders = []
    for spec in [*(session_spec(i) for i in range(sessions)), EXTRA]:
        folder = data / f"{spec.prefix}-started-{spec.started}"
        if not folder.exists():
            started = time.perf_counter()
            write_run_folder(data, spec)
            print(f"  generated {folder.name} ({time.perf_counter() - started:.1f} s)", flush=True)
        folders.append(folder)
    return folders


@contextlib.contextmanager
def warehouse(target: str, workdir: Path) -> Iterator[dict[str, str]]:
    """Environment of a fresh, empty warehouse; dropped afterwards. Every warehouse of a target
    has the same location (file path / database name), as a user's warehouse does, so that
    dbt's profile is unchanged between workloads and its partial parsing applies."""
    if target == "duckdb":
        path = workdir / "tracking.duckdb"
        path.unlink(missing_ok=True)
        try:
            yield {"TRACKING_DUCKDB_PATH": str(path)}
        finally:
            path.unlink(missing_ok=True)
        return
    name = f"tracking_bench_{workdir.name.rsplit('-', 1)[-1][:10].lower()}"
    settings = PostgresSettings.from_env()
    admin = psycopg2.connect(**settings.connect_kwargs("postgres"))
    admin.autocommit = True
    drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
    try:
        with admin.cursor() as cur:
            cur.execute(drop)
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        yield {"PGDATABASE": name}
    finally:
        with admin.cursor() as cur:
            cur.execute(drop)
        admin.close()


def postgres_connection(env: dict[str, str]) -> psycopg2.extensions.connection:
    """A connection to the Postgres warehouse of env."""
    settings = PostgresSettings(
        **{**PostgresSettings.from_env().__dict__, "database": env["PGDATABASE"]}
    )
    return psycopg2.connect(**settings.connect_kwargs())


def query(target: str, env: dict[str, str], statement: str) -> list[tuple]:
    if target == "duckdb":
        with duckdb.connect(env["TRACKING_DUCKDB_PATH"], read_only=True) as conn:
            return conn.execute(statement).fetchall()
    with (
        contextlib.closing(postgres_connection(env)) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(statement)
        return cur.fetchall()


def load(
    workload: str, target: str, env: dict[str, str], paths: list[Path], dbt_dir: Path
) -> list[Stage]:
    """extract + dbt build of paths into the warehouse of env."""
    extract = measure(
        workload,
        target,
        "extract",
        [
            str(BIN / "python"),
            str(REPO_ROOT / "extract" / "run.py"),
            "--target",
            target,
            *map(str, paths),
        ],
        env,
    )
    build = measure(
        workload,
        target,
        "dbt",
        [*dbt_command("build", dbt_dir), "--target", target, *BUILD_ARGS],
        env,
    )
    observations = query(target, env, "select count(*) from marts.observations")[0][0]
    properties = query(target, env, "select count(*) from marts.extended_properties")[0][0]
    extract.rows = build.rows = observations + properties
    return [extract, build]


# The production build: models, seeds and data tests. dbt's unit tests check the SQL on fixed
# inputs, not the data, and are left to the test suite (as dbt recommends for production runs).
BUILD_ARGS = ["--exclude-resource-type", "unit_test"]


def dbt_command(command: str, dbt_dir: Path) -> list[str]:
    return [
        str(BIN / "dbt"),
        command,
        "--project-dir",
        str(REPO_ROOT),
        "--profiles-dir",
        str(REPO_ROOT),
        "--target-path",
        str(dbt_dir / "target"),
        "--log-path",
        str(dbt_dir / "logs"),
    ]


def parse(target: str, env: dict[str, str], dbt_dir: Path) -> Stage:
    """dbt's full parse of the project, which a user's first build after a change of the
    project pays once; the timed builds then parse partially, as in daily use."""
    return measure(
        "parse", target, "dbt", [*dbt_command("parse", dbt_dir), "--target", target], env
    )


QUERIES = {
    "observations, frame range": "select time_index, agent_id, x, y, z from marts.observations "
    "where episode_id = {e} and time_index between 1000 and 1100",
    "property over frames": "select o.time_index, avg(p.value_float) from marts.extended_properties p "
    "join marts.observations o on o.observation_id = p.observation_id where p.episode_id = {e} "
    "and p.property_key = (select property_key from marts.property_definitions "
    "where property_id = 'distance_to_target_center') group by 1 order by 1",
    "mean speed per frame": "select time_index, avg(sqrt(v_x*v_x + v_y*v_y + v_z*v_z)) "
    "from marts.observations where episode_id = {e} and agent_type_id = 'agent' group by 1 order by 1",
    "episode browse": "select * from marts.episodes where session_id = {s} order by episode_number",
}


def median_seconds(run: Callable[[], object]) -> float:
    """Median wall time of 3 runs."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        run()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def time_queries(target: str, env: dict[str, str], session: Path) -> list[tuple[str, float]]:
    """Median of 3 runs of each access-path query for one episode."""
    ids = {"e": stable_id("boids_3d", session.name, "5"), "s": stable_id("boids_3d", session.name)}
    timings = []
    for name, template in QUERIES.items():
        statement = template.format(**ids)
        assert query(target, env, statement), f"no rows: {name}"
        timings.append((name, median_seconds(lambda s=statement: query(target, env, s))))
    return timings


# The settings a role logs in with (ALTER ROLE ... SET), for every database or this one.
ROLE_SETTINGS = """
select unnest(s.setconfig) from pg_db_role_setting as s
join pg_roles as r on r.oid = s.setrole
where r.rolname = %s
    and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
"""


def time_panels(
    env: dict[str, str], session: Path, scope: str = "episode"
) -> list[tuple[str, float]]:
    """Median of 3 runs of every Grafana panel query (the dashboards' SQL with their variables
    resolved as Grafana does) for episode 5 of the session, on Postgres, in a session with the
    login settings of the Grafana role (GRAFANA_DB_USER), as Grafana's connections have them.
    `scope` sets the dashboards' Scope variable (explore.json: "session" pools the session).
    A dashboard whose variables have no options in this warehouse is skipped, and said so."""
    role = os.environ.get("GRAFANA_DB_USER", "grafana_reader")
    timings = []
    with contextlib.closing(postgres_connection(env)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(ROLE_SETTINGS, (role,))
            applied = [row[0] for row in cur.fetchall()]
            for setting in applied:
                name, value = setting.split("=", 1)
                cur.execute("select set_config(%s, %s, false)", (name, value))
        print(f"  panels as role {role}: {', '.join(applied) or 'no role settings'}", flush=True)
        picks = {"session": session.name, "episode": "episode-5", "scope": scope}
        for dashboard in panel_queries.load_dashboards().values():
            try:
                values = panel_queries.resolve_variables(dashboard, conn, picks, {})
            except panel_queries.PanelQueryError as error:
                # e.g. the rollouts dashboard: the bench's 3D data has no rollout sessions
                print(f"  skipped {dashboard['title']}: {error}", flush=True)
                continue
            for panel in panel_queries.all_panels(dashboard):
                for target in panel.get("targets", []):
                    statement = panel_queries.interpolate(target["rawSql"], values)
                    seconds = median_seconds(lambda s=statement: panel_queries.run(conn, s)[1])
                    timings.append((f"{dashboard['title']} / {panel['title']}", seconds))
    return timings


def run_baseline(target: str, env: dict[str, str], episode_file: Path) -> Stage:
    """The naive loader on one episode."""
    # imported here: its libraries (the `bench` extra) are needed only to run the baseline,
    # not for --help or --skip-baseline
    from bench import baseline

    with contextlib.ExitStack() as stack:
        stack.enter_context(temporarily_set(os.environ, env))
        engine = baseline.engine(target, env.get("TRACKING_DUCKDB_PATH"))
        started = time.perf_counter()
        rows = baseline.naive_load(engine, str(episode_file), episode_id=1)
        seconds = time.perf_counter() - started
        engine.dispose()
    print(f"  base {target:8} 1 episode {seconds:8.1f} s", flush=True)
    return Stage("base", target, "to_sql", seconds, 0.0, rows)


def bench_parser(script: str, description: str | None, report: str) -> argparse.ArgumentParser:
    """The argument parser a benchmark script starts from: its --help is the module's
    docstring; --data (the generated run folders, reused) and --out (the markdown report,
    bench/results/`report` by default)."""
    parser = argparse.ArgumentParser(
        prog=f"python bench/{script}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=REPO_ROOT / "bench" / "data",
        help="where the workloads are generated and reused (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "bench" / "results" / report,
        help="where the markdown report is written (default: %(default)s)",
    )
    return parser


def write_report(path: Path, report: str) -> None:
    """Write the markdown report to path and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report, encoding="utf-8")
    print(report)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("run.py", __doc__, "latest.md")
    parser.add_argument(
        "--targets",
        default="duckdb,postgres",
        help="comma-separated: duckdb, postgres (default: %(default)s)",
    )
    parser.add_argument(
        "--w2-duckdb",
        type=int,
        default=100,
        help="W2 episodes on DuckDB, a multiple of 10 (default: %(default)s)",
    )
    parser.add_argument(
        "--w2-postgres",
        type=int,
        default=30,
        help="W2 episodes on Postgres, a multiple of 10 (default: %(default)s)",
    )
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="do not run the baseline (no vs baseline column)",
    )
    parser.add_argument(
        "--skip-w2",
        action="store_true",
        help="only W1 and W0 (and the baseline): no W2, W3, queries or panels",
    )
    args = parser.parse_args(argv)
    targets = args.targets.split(",")
    w2 = {"duckdb": args.w2_duckdb, "postgres": args.w2_postgres}
    sessions = max(w2[t] for t in targets) // PER_SESSION if not args.skip_w2 else 1
    print(f"generating workloads in {args.data}", flush=True)
    folders = generate(args.data, sessions)
    extra = folders[-1]
    stages: list[Stage] = []
    queries: dict[str, list[tuple[str, float]]] = {}
    panels: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-") as tmp:
        work = Path(tmp)
        for target in targets:
            if not args.skip_baseline:
                with warehouse(target, work) as env:
                    stages.append(
                        run_baseline(target, env, sorted(folders[0].glob("episode-0-*.parquet"))[0])
                    )
            dbt_dir = work / f"dbt-{target}"
            with warehouse(target, work) as env:
                stages.append(parse(target, env, dbt_dir))
                stages += load("W1", target, env, [folders[0]], dbt_dir)
            with warehouse(target, work) as env:
                stages += load("W0", target, env, [extra], dbt_dir)
            if args.skip_w2:
                continue
            with warehouse(target, work) as env:
                count = w2[target] // PER_SESSION
                stages += load("W2", target, env, folders[:count], dbt_dir)
                queries[target] = time_queries(target, env, folders[0])
                if target == "postgres":
                    panels = time_panels(env, folders[0])
                stages += load("W3", target, env, [*folders[:count], extra], dbt_dir)
    report = render(stages, queries, panels)
    write_report(args.out, report)
    return 0


def render(
    stages: list[Stage],
    queries: dict[str, list[tuple[str, float]]],
    panels: list[tuple[str, float]],
) -> str:
    """The markdown report."""
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        "| workload | target | extract s | dbt build s | total s | rows/s | peak RSS extract MiB | peak RSS dbt MiB | vs baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = {s.target: s for s in stages if s.workload == "base"}
    parses = {s.target: s for s in stages if s.workload == "parse"}
    by_key: dict[tuple[str, str], list[Stage]] = {}
    for s in stages:
        if s.workload not in ("base", "parse"):
            by_key.setdefault((s.workload, s.target), []).append(s)
    totals = {key: sum(s.seconds for s in pair) for key, pair in by_key.items()}
    for (workload, target), (extract, build) in by_key.items():
        total = extract.seconds + build.seconds
        ratio = ""
        if workload == "W3" and ("W0", target) in totals:
            ratio = (
                f"{total / totals[('W0', target)]:.1f}x W0 (one episode into an empty warehouse)"
            )
        elif target in base:
            # the naive loader's cost per row, applied to this workload's rows
            naive = base[target].seconds / base[target].rows * extract.rows
            ratio = f"{naive / total:.0f}x faster"
        lines.append(
            f"| {workload} | {target} | {extract.seconds:.1f} | {build.seconds:.1f} | {total:.1f} | "
            f"{extract.rows / total:,.0f} | {extract.peak_rss_mib:.0f} | {build.peak_rss_mib:.0f} | {ratio} |"
        )
    for target, b in base.items():
        lines.append(
            f"\nbaseline ({target}): 1 episode, {b.rows:,} rows in {b.seconds:.1f} s ({b.rows / b.seconds:,.0f} rows/s)"
        )
    for target, p in parses.items():
        lines.append(
            f"\ndbt full parse ({target}), once per change of the project, before the timed "
            f"builds (which parse partially): {p.seconds:.1f} s"
        )
    for target, timings in queries.items():
        lines.append(f"\nqueries on W2 ({target}), median of 3:")
        lines += [f"- {name}: {seconds * 1000:.0f} ms" for name, seconds in timings]
    if panels:
        slowest = sorted(panels, key=lambda panel: -panel[1])
        lines.append(
            f"\nGrafana panel queries on W2 (postgres), episode 5 of a session, median of 3: "
            f"{len(panels)} queries, median {statistics.median(s for _, s in panels) * 1000:.0f} "
            "ms; the slowest:"
        )
        lines += [f"- {name}: {seconds * 1000:.0f} ms" for name, seconds in slowest[:5]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
