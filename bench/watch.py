"""W0 (one 3D episode into an empty DuckDB warehouse) by the two commands against a round of
`python extract/run.py watch` (docs/benchmarks.md, "Fixed costs of a small build").

`two commands`: `python extract/run.py` then the production `dbt build`, each a process of its
own, dbt parsing partially (its partial-parse file warm), timed from the first command's start
to the second's end. `watch`: a watcher started over an empty folder of an empty warehouse (it
imports dbt, parses and builds the empty warehouse), then the episode's session folder moved
in; timed are the extract and the dbt build of the round that lands it, as the watcher reports
them. The two are taken in turn, --rounds times, each round led by the naive baseline
(bench/baseline.py: one episode by pandas to_sql), so that every figure can be stated in the
day's baseline episodes. The markdown report goes to --out and stdout.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.run import (  # noqa: E402
    BIN,
    BUILD_ARGS,
    EXTRA,
    bench_parser,
    dbt_command,
    run_baseline,
    write_report,
)
from extract.samples.boids_3d import write_run_folder  # noqa: E402
from extract.settings import REPO_ROOT  # noqa: E402

# "landed 1 episode file(s) ... in 1.2 s" and "dbt build: PASS=... in 3.4 s" of a round
LANDED = re.compile(r"^landed [1-9]\d* episode file\(s\).* in ([\d.]+) s")
BUILT = re.compile(r"^dbt build: .* in ([\d.]+) s")


def two_commands(episode: Path, env: dict[str, str], dbt_dir: Path) -> tuple[float, float]:
    """The extract and the dbt build of the episode's session, in seconds."""
    started = time.perf_counter()
    extract = [str(BIN / "python"), str(REPO_ROOT / "extract" / "run.py"), str(episode)]
    subprocess.run(extract, env=env, check=True, capture_output=True)
    landed = time.perf_counter()
    build = [*dbt_command("build", dbt_dir), "--target", "duckdb", *BUILD_ARGS]
    subprocess.run(build, env=env, check=True, capture_output=True)
    return landed - started, time.perf_counter() - landed


def watch_round(
    episode: Path, env: dict[str, str], dbt_dir: Path, folder: Path
) -> tuple[float, float]:
    """The extract and the dbt build of the watcher's round that lands the episode's session,
    moved into the watched (empty) folder once the watcher's first round is built."""
    folder.mkdir()
    command = [str(BIN / "python"), str(REPO_ROOT / "extract" / "run.py"), "watch"]
    watcher = subprocess.Popen(
        [*command, "--every", "0.5", "--rounds", "1000", str(folder)],
        env={**env, "DBT_TARGET_PATH": str(dbt_dir / "target"), "DBT_LOG_PATH": str(dbt_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert watcher.stdout is not None
    landed = None
    output = []
    try:
        for line in watcher.stdout:
            output.append(line)
            if BUILT.match(line) and landed is None:
                # the first round (the empty warehouse) is built: the episode appears
                shutil.copytree(episode, folder / episode.name)
            elif (match := LANDED.match(line)) is not None:
                landed = float(match.group(1))
            elif (match := BUILT.match(line)) is not None:
                return landed, float(match.group(1))
    finally:
        watcher.terminate()
        watcher.wait()
    sys.exit("the watcher ended before it built the episode:\n" + "".join(output[-40:]))


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("watch.py", __doc__, "watch.md")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default: %(default)s)")
    args = parser.parse_args(argv)
    episode = args.data / f"{EXTRA.prefix}-started-{EXTRA.started}"
    if not episode.exists():
        write_run_folder(args.data, EXTRA)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-watch-") as tmp:
        work = Path(tmp)
        path = work / "tracking.duckdb"
        env = {**os.environ, "TRACKING_DUCKDB_PATH": str(path)}
        # dbt's full parse, once: the two commands' builds then parse partially, as daily
        subprocess.run([*dbt_command("parse", work), "--target", "duckdb"], env=env, check=True)
        for number in range(1, args.rounds + 1):
            path.unlink(missing_ok=True)
            baseline = run_baseline("duckdb", env, next(episode.glob("*.parquet"))).seconds
            path.unlink(missing_ok=True)
            cold = two_commands(episode, env, work)
            path.unlink(missing_ok=True)
            warm = watch_round(episode, env, work / f"watch-{number}", work / f"runs-{number}")
            load = os.getloadavg()[0]
            print(
                f"  round {number}: baseline {baseline:.1f} s, two commands {sum(cold):.1f} s, "
                f"watch {sum(warm):.1f} s (load {load:.1f})",
                flush=True,
            )
            rows.append((number, baseline, cold, warm, load))
    lines = [
        f"# W0 by the two commands and by a watcher round ({time.strftime('%Y-%m-%d %H:%M')} UTC)",
        "",
        "| round | baseline s | two commands: extract + dbt s | watch: extract + dbt s "
        "| watch / two commands | watch in baseline episodes | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, baseline, cold, warm, load in rows:
        lines.append(
            f"| {number} | {baseline:.1f} | {cold[0]:.1f} + {cold[1]:.1f} = {sum(cold):.1f} "
            f"| {warm[0]:.1f} + {warm[1]:.1f} = {sum(warm):.1f} | {sum(warm) / sum(cold):.2f} "
            f"| {sum(warm) / baseline:.2f} | {load:.1f} |"
        )
    ratios = [sum(warm) / sum(cold) for _, _, cold, warm, _ in rows]
    lines += ["", f"Median watch / two commands: {statistics.median(ratios):.2f}."]
    write_report(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
