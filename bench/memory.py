"""DuckDB's memory under TRACKING_DUCKDB_MEMORY_LIMIT (docs/benchmarks.md, "Memory").

The episodes (bench/run.py's 3D workloads: run folders of 10 episodes of 3,001 frames x 30
agents, generated into --data once and reused) are landed once by `python extract/run.py`
under the first limit; then, in each round, a copy of the landed warehouse is built by the
production `dbt build --exclude-resource-type unit_test` under each variant in turn (the
variants interleaved, the copy at the same path every time so that dbt parses partially). A
variant is a limit, optionally with the episodes per batch of the incremental models
(`LIMIT/EPISODES`, var duckdb_batch_episodes; default the project's). For each
build: the wall time, dbt's peak RSS (the kernel's high-water mark of the process), the
largest size of DuckDB's temp directory (what it spilled) and, from RSS sampled every 0.1 s
against the node timings of run_results.json, the nodes running when the RSS was highest;
the built warehouse file's size. The markdown report goes to --out and stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.run import (  # noqa: E402
    BIN,
    BUILD_ARGS,
    PER_SESSION,
    bench_parser,
    dbt_command,
    generate,
    measure,
    write_report,
)
from extract.settings import MEMORY_LIMIT_VAR, REPO_ROOT, size_bytes  # noqa: E402

SAMPLE_SECONDS = 0.1
MIB = 1024 * 1024


@dataclass
class Build:
    """One timed `dbt build` under one memory limit."""

    variant: str
    seconds: float
    peak_rss_mib: float
    peak_spill_mib: float
    warehouse_mib: float
    # (peak RSS MiB while the node ran, node name), highest first
    nodes: list[tuple[float, str]] = field(default_factory=list)


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """The resident set of a running process (0 once it has ended); `field="VmHWM"`: its
    high-water mark so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under a folder (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


def node_peaks(samples: list[tuple[float, int]], results: Path) -> list[tuple[float, str]]:
    """The peak sampled RSS (MiB) while each node of run_results.json executed, highest
    first."""
    peaks = []
    for result in json.loads(results.read_text())["results"]:
        timing = [t for t in result["timing"] if t["name"] == "execute"]
        if not timing:
            continue
        start, end = (
            datetime.fromisoformat(timing[0][k].replace("Z", "+00:00")).timestamp()
            for k in ("started_at", "completed_at")
        )
        during = [rss for at, rss in samples if start <= at <= end]
        if during:
            peaks.append((max(during) / MIB, result["unique_id"].split(".", 2)[-1]))
    return sorted(peaks, reverse=True)


@dataclass
class Sampled:
    """A finished process: its exit code, wall time, the kernel's high-water mark of its RSS,
    the largest size of DuckDB's temp directory while it ran, and its RSS sampled over time."""

    returncode: int
    seconds: float
    peak_rss_mib: float
    peak_spill_mib: float
    # (time.time(), RSS bytes) every SAMPLE_SECONDS
    samples: list[tuple[float, int]]


def run_sampled(command: list[str], env: dict[str, str], log: Path, spill: Path) -> Sampled:
    """Run a command (its output to log), sampling its RSS and the size of the spill folder."""
    samples: list[tuple[float, int]] = []
    spilled = 0
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        # wait4 (not Popen.wait) to read the child's own high-water mark of RSS
        while not (waited := os.wait4(process.pid, os.WNOHANG))[0]:
            samples.append((time.time(), rss_bytes(process.pid)))
            spilled = max(spilled, folder_bytes(spill))
            time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(waited[1])
    return Sampled(returncode, seconds, waited[2].ru_maxrss / 1024, spilled / MIB, samples)


def build(variant: str, database: Path, dbt_dir: Path) -> Build:
    """The production dbt build of the warehouse file under a variant (LIMIT[/EPISODES]),
    sampled."""
    limit, _, batch = variant.partition("/")
    env = {**os.environ, "TRACKING_DUCKDB_PATH": str(database), MEMORY_LIMIT_VAR: limit}
    command = [*dbt_command("build", dbt_dir), "--target", "duckdb", *BUILD_ARGS]
    if batch:
        command += ["--vars", f"{{duckdb_batch_episodes: {int(batch)}}}"]
    log = dbt_dir / "build-output.txt"
    run = run_sampled(command, env, log, Path(f"{database}.tmp"))
    if run.returncode != 0:
        sys.exit(f"dbt build under {variant} failed:\n{log.read_text()[-4000:]}")
    peaks = node_peaks(run.samples, dbt_dir / "target" / "run_results.json")
    size = database.stat().st_size / MIB
    result = Build(variant, run.seconds, run.peak_rss_mib, run.peak_spill_mib, size, peaks)
    print(
        f"  dbt build {variant:>10}: {run.seconds:7.1f} s, peak RSS {result.peak_rss_mib:7.0f} MiB, "
        f"spilled up to {result.peak_spill_mib:6.0f} MiB, warehouse {size:,.0f} MiB; highest during "
        + ", ".join(f"{name} ({mib:.0f})" for mib, name in peaks[:3]),
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("memory.py", __doc__, "memory.md")
    parser.add_argument(
        "--episodes",
        type=int,
        default=100,
        help="episodes landed and built, a multiple of 10 (default: %(default)s, W2)",
    )
    parser.add_argument(
        "--variants",
        default="2GiB,4GB,16GiB/1000",
        help="comma-separated LIMIT[/EPISODES]: TRACKING_DUCKDB_MEMORY_LIMIT and optionally "
        "the episodes per batch (var duckdb_batch_episodes), each built in every round "
        "(default: %(default)s; /1000: no batches)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="builds per limit (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    for variant in variants:
        size_bytes(variant.partition("/")[0])
    if args.episodes <= 0 or args.episodes % PER_SESSION:
        parser.error(f"--episodes must be a positive multiple of {PER_SESSION}")
    folders = generate(args.data, args.episodes // PER_SESSION)[:-1]
    builds: list[Build] = []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-memory-") as tmp:
        work = Path(tmp)
        landed, database = work / "landed.duckdb", work / "tracking.duckdb"
        extract = measure(
            f"{args.episodes}",
            "duckdb",
            "extract",
            [str(BIN / "python"), str(REPO_ROOT / "extract" / "run.py"), "--target", "duckdb"]
            + [str(f) for f in folders],
            {"TRACKING_DUCKDB_PATH": str(landed), MEMORY_LIMIT_VAR: variants[0].partition("/")[0]},
        )
        for _ in range(args.rounds):
            for variant in variants:
                shutil.copyfile(landed, database)
                builds.append(build(variant, database, work / "dbt"))
                database.unlink()
        disk = landed.stat().st_size / MIB
    report = render(args.episodes, extract.seconds, extract.peak_rss_mib, disk, builds)
    write_report(args.out, report)
    return 0


def render(
    episodes: int, extract_s: float, extract_mib: float, landed_mib: float, builds: list[Build]
) -> str:
    """The markdown report."""
    lines = [
        f"# DuckDB memory: {episodes} episodes ({datetime.now().astimezone():%Y-%m-%d %H:%M %Z})",
        "",
        f"extract (limit {builds[0].variant.partition('/')[0]}): {extract_s:.1f} s, peak RSS "
        f"{extract_mib:,.0f} MiB; landed warehouse {landed_mib:,.0f} MiB",
        "",
        "| limit/batch | dbt build s | peak RSS MiB | peak spill MiB | warehouse MiB "
        "| nodes running at the highest RSS (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for b in builds:
        nodes = ", ".join(f"{name} {mib:,.0f}" for mib, name in b.nodes[:3])
        lines.append(
            f"| {b.variant} | {b.seconds:.1f} | {b.peak_rss_mib:,.0f} | {b.peak_spill_mib:,.0f} "
            f"| {b.warehouse_mib:,.0f} | {nodes} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
