"""Spark's load path on bench/run.py's 3D workloads (docs/benchmarks.md, "Spark").

W1 (one run folder: 10 episodes of 3,001 frames x 30 agents) and W2 (--w2 episodes, run
folders of 10; generated into --data once and reused) are each landed into a fresh lake by
`python extract/run.py --target spark` and built by the production `dbt build --target spark
--exclude-resource-type unit_test` into a fresh table folder and metastore, on --master
(default `local[2]`). Timed: both commands (wall). Memory: the peak RSS of dbt's Python process
and of the Spark JVM it starts (the driver; on `local[N]` the executor's tasks run in that JVM
too), each process's own high-water mark (VmHWM) read from /proc every 0.2 s; and the built
tables' size. The markdown report goes to --out and stdout, each build's output beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import duckdb  # noqa: E402

from bench.memory import folder_bytes, rss_bytes  # noqa: E402
from bench.run import (  # noqa: E402
    BUILD_ARGS,
    PER_SESSION,
    bench_parser,
    dbt_command,
    generate,
    measure,
    write_report,
)

SAMPLE_SECONDS = 0.2
MIB = 1024 * 1024


@dataclass
class Run:
    """One workload on Spark."""

    workload: str
    episodes: int
    extract_seconds: float
    build_seconds: float
    dbt_mib: float
    jvm_mib: float
    tables_mib: float
    observations: int
    properties: int


def children(pid: int) -> list[int]:
    """Every descendant of a process that runs now."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def is_jvm(pid: int) -> bool:
    """Whether a running process is a Java VM (Spark's)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False
    return command.endswith(b"java")


def build(env: dict[str, str], dbt_dir: Path, log: Path) -> tuple[float, float, float]:
    """The production dbt build on Spark, its output to `log`: wall seconds, dbt's and the
    JVM's peak RSS (MiB)."""
    command = [*dbt_command("build", dbt_dir), "--target", "spark", *BUILD_ARGS]
    log.parent.mkdir(parents=True, exist_ok=True)
    dbt_peak = jvm_peak = 0
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        while process.poll() is None:
            dbt_peak = max(dbt_peak, rss_bytes(process.pid, "VmHWM"))
            for child in children(process.pid):
                if is_jvm(child):
                    jvm_peak = max(jvm_peak, rss_bytes(child, "VmHWM"))
            time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"dbt build --target spark failed: its output is in {log}")
    dbt_mib, jvm_mib = dbt_peak / MIB, jvm_peak / MIB
    print(
        f"  dbt build {seconds:7.1f} s, dbt {dbt_mib:5.0f} MiB, Spark JVM {jvm_mib:5.0f} MiB",
        flush=True,
    )
    return seconds, dbt_mib, jvm_mib


def count(tables: Path, mart: str) -> int:
    """Rows of a mart, read from its parquet files."""
    files = tables / "marts.db" / mart / "**" / "*.parquet"
    with duckdb.connect() as conn:
        return conn.execute(f"select count(*) from read_parquet('{files}')").fetchone()[0]


def run(workload: str, folders: list[Path], work: Path, master: str, out: Path) -> Run:
    """Land the folders into a fresh lake and build them into fresh tables (dbt's output to
    `out`'s folder)."""
    home = work / "spark"
    shutil.rmtree(home, ignore_errors=True)
    env = {
        "TRACKING_LAKE": str(home / "lake"),
        "TRACKING_SPARK_WAREHOUSE": str(home / "tables"),
        "TRACKING_SPARK_METASTORE": str(home / "metastore"),
        "SPARK_MASTER": master,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    print(f"{workload}: {len(folders) * PER_SESSION} episodes", flush=True)
    extract = measure(
        workload,
        "spark",
        "extract",
        [
            sys.executable,
            str(Path(__file__).parent.parent / "extract" / "run.py"),
            "--target",
            "spark",
            *map(str, folders),
        ],
        env,
    )
    log = out.with_name(f"{out.stem}-{workload}-dbt-output.txt")
    seconds, dbt_mib, jvm_mib = build(env, work / "dbt", log)
    tables = home / "tables"
    return Run(
        workload,
        len(folders) * PER_SESSION,
        extract.seconds,
        seconds,
        dbt_mib,
        jvm_mib,
        folder_bytes(tables) / MIB,
        count(tables, "observations"),
        count(tables, "extended_properties"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("spark.py", __doc__, "spark.md")
    parser.add_argument(
        "--w2", type=int, default=20, help="W2 episodes, a multiple of 10 (default: %(default)s)"
    )
    parser.add_argument(
        "--master", default="local[2]", help="SPARK_MASTER of the builds (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    print(f"generating workloads in {args.data}", flush=True)
    folders = generate(args.data, args.w2 // PER_SESSION)[:-1]
    with tempfile.TemporaryDirectory(prefix="tracking-bench-spark-") as tmp:
        runs = [
            run("W1", folders[:1], Path(tmp), args.master, args.out),
            run("W2", folders, Path(tmp), args.master, args.out),
        ]
    write_report(args.out, render(runs, args.master))
    return 0


def render(runs: list[Run], master: str) -> str:
    """The markdown report."""
    lines = [
        f"Spark on `{master}`, {os.cpu_count()} cores",
        "",
        "| workload | episodes | observations | property rows | extract s | dbt build s | "
        "peak RSS dbt MiB | peak RSS Spark JVM MiB | tables MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.workload} | {r.episodes} | {r.observations:,} | {r.properties:,} | "
        f"{r.extract_seconds:.1f} | {r.build_seconds:.1f} | {r.dbt_mib:.0f} | {r.jvm_mib:.0f} | "
        f"{r.tables_mib:,.0f} |"
        for r in runs
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
