"""The key test of extended_properties at W4's size, alone (docs/benchmarks.md, "Memory").

A synthetic table shaped like marts.extended_properties (observation_id, episode_id,
property_id of real ids, property_key, value_float, value_text): --episodes of 90,000
observations x 14 properties (300: 378 M rows, as W4), inserted in order 10 episodes at a
time as the build's batches insert them, into --database (generated once and reused). Then each
variant, a data test as dbt compiles it from this project's macros (macros/generic_tests/)
over the whole table (a full build's `where`), runs in a process of its own under the DuckDB
memory limit --limit: the wall time, the process's peak RSS (the kernel's high-water mark),
the largest size of the temp directory (what it spilled) and the failures it counted (0: the
table's keys are unique) or the error that stopped it. The markdown report goes to --out and
stdout.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import duckdb  # noqa: E402

from bench.memory import Sampled, run_sampled  # noqa: E402
from bench.run import BIN, bench_parser, dbt_command, write_report  # noqa: E402
from extract.settings import size_bytes  # noqa: E402

PROPERTY_IDS = (
    "distance_to_target_center",
    "distance_to_target_mesh",
    "target_mesh_closest_x",
    "target_mesh_closest_y",
    "target_mesh_closest_z",
    "distance_to_scene_mesh",
    "scene_mesh_closest_x",
    "scene_mesh_closest_y",
    "scene_mesh_closest_z",
    "speed",
    "acceleration_x",
    "acceleration_y",
    "acceleration_z",
    "acceleration_magnitude",
)
OBSERVATIONS_PER_EPISODE = 90_000
EPISODES_PER_INSERT = 10
# the test's relation as a full build renders it (macros/incremental_by_episode.sql)
CHECKED = "(select * from extended_properties where 1 = 1) dbt_subquery"
VARIANTS = {
    "group-text": "test_unique_combination_of_columns({m}, ['observation_id', 'property_id'])",
    "group-int": "test_unique_combination_of_columns({m}, ['observation_id', 'property_key'])",
    "sort-int": "test_unique_by_sort({m}, ['observation_id', 'property_key'])",
}
# run in the child process: argv = database, limit, the test's SQL
RUN_TEST = """
import sys, duckdb
path, limit, test = sys.argv[1:]
con = duckdb.connect(path, config={"memory_limit": limit, "temp_directory": path + ".tmp"})
con.execute("set enable_progress_bar = false")
try:
    sql = f"select count(*) as failures from ({test}) dbt_internal_test"
    print("failures:", con.execute(sql).fetchone()[0])
except duckdb.Error as error:
    print(str(error).splitlines()[0])
"""


def generate(database: Path, episodes: int, limit: str) -> None:
    """The synthetic table, episodes in order (ids: hashes, as the warehouse's are)."""
    values = ", ".join(f"({i}, '{p}')" for i, p in enumerate(PROPERTY_IDS))
    key = "cast('0x' || substr(md5(p), 1, 16) as ubigint) & cast(9223372036854775807 as ubigint)"
    with duckdb.connect(
        str(database), config={"memory_limit": limit, "temp_directory": f"{database}.tmp"}
    ) as con:
        con.execute(
            f"create table props as select i, p as property_id, "
            f"cast({key} as bigint) % 2147483647 as property_key from (values {values}) t(i, p)"
        )
        step = OBSERVATIONS_PER_EPISODE * EPISODES_PER_INSERT
        for start in range(0, episodes * OBSERVATIONS_PER_EPISODE, step):
            end = min(start + step, episodes * OBSERVATIONS_PER_EPISODE)
            into = (
                "create table extended_properties as"
                if start == 0
                else ("insert into extended_properties")
            )
            con.execute(f"""
                {into}
                select
                    cast(hash(o) >> 1 as bigint) as observation_id,
                    o // {OBSERVATIONS_PER_EPISODE} as episode_id,
                    props.property_id,
                    cast(props.property_key as integer) as property_key,
                    random() as value_float,
                    cast(null as varchar) as value_text
                from range({start}, {end}) r(o) cross join props
                order by o, props.i
            """)
            print(f"  generated episodes up to {end // OBSERVATIONS_PER_EPISODE}", flush=True)


def compiled(variant: str, work: Path) -> str:
    """A variant's test SQL as dbt compiles it (against an empty DuckDB file)."""
    env = {**os.environ, "TRACKING_DUCKDB_PATH": str(work / "compile.duckdb")}
    log = work / f"compile-{variant}.txt"
    inline = "{{ " + VARIANTS[variant].format(m=repr(CHECKED)) + " }}"
    command = [*dbt_command("compile", work / "dbt"), "--quiet", "--target", "duckdb"]
    run = run_sampled([*command, "--inline", inline], env, log, work / "none")
    if run.returncode != 0:
        sys.exit(f"dbt compile of {variant} failed:\n{log.read_text()[-4000:]}")
    return log.read_text().strip()


def run_test(database: Path, limit: str, test: str, log: Path) -> Sampled:
    """One test's SQL, run as dbt runs it, in a process of its own."""
    command = [str(BIN / "python"), "-c", RUN_TEST, str(database), limit, test]
    return run_sampled(command, dict(os.environ), log, Path(f"{database}.tmp"))


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("key_test.py", __doc__, "key_test.md")
    parser.add_argument(
        "--episodes",
        type=int,
        default=300,
        help="synthetic episodes of 90,000 observations (default: %(default)s, W4)",
    )
    parser.add_argument(
        "--limit", default="4GB", help="DuckDB's memory_limit (default: %(default)s)"
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated, of {', '.join(VARIANTS)}, each run in every round "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs per variant (default: %(default)s)"
    )
    parser.add_argument(
        "--database",
        type=Path,
        help="the synthetic table's DuckDB file, generated if missing "
        "(default: --data/key_test-EPISODES.duckdb)",
    )
    args = parser.parse_args(argv)
    size_bytes(args.limit)
    variants = args.variants.split(",")
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"unknown variants {sorted(unknown)}")
    database = args.database or args.data / f"key_test-{args.episodes}.duckdb"
    if not database.exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        # in a process of its own: Linux counts a child's peak RSS from its parent's at fork
        process = multiprocessing.Process(
            target=generate, args=(database, args.episodes, args.limit)
        )
        process.start()
        process.join()
        if process.exitcode != 0:
            sys.exit(f"generating {database} failed")
    rows = []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-key-test-") as tmp:
        work = Path(tmp)
        tests = {variant: compiled(variant, work) for variant in variants}
        for _ in range(args.rounds):
            for variant in variants:
                log = work / f"{variant}.txt"
                run = run_test(database, args.limit, tests[variant], log)
                outcome = log.read_text().strip().splitlines()[-1]
                row = (
                    f"| {variant} | {run.seconds:.1f} | {run.peak_rss_mib:,.0f} "
                    f"| {run.peak_spill_mib:,.0f} | {os.getloadavg()[0]:.1f} | {outcome} |"
                )
                print(row, flush=True)
                rows.append(row)
    header = [
        f"# The key test of {args.episodes} synthetic episodes under {args.limit} "
        f"({time.strftime('%Y-%m-%d %H:%M %Z')})",
        "",
        "| variant | s | peak RSS MiB | peak spill MiB | load average | outcome |",
        "|---|---|---|---|---|---|",
    ]
    write_report(args.out, "\n".join(header + rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
