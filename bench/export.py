"""Benchmark the way out (docs/benchmarks.md, "Export"): the warehouse to PyTorch tensors.

One warehouse per target holds the W2 episodes (3D boids, 3,001 frames x 30 agents, 10 per run
folder, generated into --data as bench/run.py does and reused); W1 is the selection of its
first run folder (10 episodes), W2 the selection of all of them (--w2). Each measure runs in
its own process (peak RSS: of the largest process, the main one or a DataLoader worker); its
seconds are the work after the imports (torch alone takes seconds to import), the DataLoader's
worker start-up included; W1's measures run --repeat times, interleaved, and the median counts:

  export W1 / W2    python export/run.py --format tensors of the selection (the default
                    features x, y, z, v_x, v_y, v_z, float64): the time it reports
  windows W1 / W2   every window (--window, --stride; features x, y, z, v_x, v_y, v_z in
                    float32) of the selection through a DataLoader (batch 32, --workers workers,
                    collate_fn=collate_windows)
  windows W1, 0 w.  the same in the main process (num_workers=0)
  windows W1, torch collate  the same as windows W1 with torch's default collate (one
                    shared-memory segment per tensor of a batch instead of one per batch)
  pandas W1         the baseline, in the same run: the original parquet files of W1 read with
                    pandas, each episode made into the same [frames, agents, features] array
                    and cut into the same windows as tensors (what users wrote before)
  DataLoader alone W1  the floor of any dataset: W1's windows, read into memory (by pandas)
                    before the clock starts, through the same DataLoader (--workers workers,
                    collate_windows): the cost of the batches themselves

Frames/s counts each episode's frames once (W1: 30,010); MB/s is the float32 feature tensors
delivered (windows overlap when stride < window) or, for export, the bytes of files written.
The markdown report goes to --out and stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.run import (  # noqa: E402
    BIN,
    PEAK_RSS,
    bench_parser,
    generate,
    load,
    warehouse,
    write_report,
)
from extract.settings import REPO_ROOT  # noqa: E402

FEATURES = ["x", "y", "z", "v_x", "v_y", "v_z"]
BATCH = 32


@dataclass
class Timing:
    """One measure: the median over its runs of the work's seconds (after the imports: the
    DataLoader's workers are started within it) and of the process's wall time, and the
    largest peak RSS."""

    target: str
    what: str
    seconds: float
    wall: float
    peak_rss_mib: float
    counts: dict


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command in its own process: wall time, peak RSS (MiB), stdout."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return wall, int(result.stderr.strip().splitlines()[-1]) / 1024, result.stdout


def measured(target: str, what: str, runs: list[tuple[float, float, dict]]) -> Timing:
    """The Timing of runs (wall, peak, counts with the work's `seconds`)."""
    timing = Timing(
        target,
        what,
        statistics.median(counts["seconds"] for _, _, counts in runs),
        statistics.median(wall for wall, _, _ in runs),
        max(peak for _, peak, _ in runs),
        runs[0][2],
    )
    print(
        f"  {target:8} {what:18} work {timing.seconds:6.1f} s  wall {timing.wall:6.1f} s  "
        f"{timing.peak_rss_mib:5.0f} MiB  ({len(runs)} runs)",
        flush=True,
    )
    return timing


def child_run(command: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    """A benchmark child: it prints its counts and work seconds as JSON, last."""
    wall, peak, stdout = run_once(command, env)
    return wall, peak, json.loads(stdout.strip().splitlines()[-1])


def export_run(command: list[str], env: dict[str, str], out: Path) -> tuple[float, float, dict]:
    """`python export/run.py ... --format tensors out`: the seconds it reports (after its
    imports), the bytes and frames of the files written; the folder is removed."""
    wall, peak, stdout = run_once([*command, "--format", "tensors", str(out)], env)
    index = json.loads((out / "index.json").read_text())
    counts = {
        "seconds": float(re.search(r" in ([0-9.]+) s$", stdout.strip()).group(1)),
        "bytes": sum(f.stat().st_size for f in out.iterdir()),
        "frames": sum(e["num_frames"] for e in index["episodes"]),
    }
    shutil.rmtree(out)
    return wall, peak, counts


def child_windows(
    target: str, sessions: list[str], window: int, stride: int, workers: int, packed: bool
) -> None:
    """Iterate every window of the sessions through a DataLoader (batches collated by
    collate_windows, or by torch's default); print the counts."""
    import torch

    from export import TrajectoryWindows, collate_windows, select_episodes

    started = time.perf_counter()
    selection = select_episodes(target, sessions=sessions)
    data = TrajectoryWindows(target, selection, window=window, stride=stride, features=FEATURES)
    windows = nbytes = 0
    for batch in torch.utils.data.DataLoader(
        data,
        batch_size=BATCH,
        num_workers=workers,
        collate_fn=collate_windows if packed else None,
    ):
        windows += len(batch["episode_id"])
        nbytes += batch["features"].nbytes
    frames = sum(e.num_frames for e in selection)
    seconds = time.perf_counter() - started
    print(json.dumps({"windows": windows, "bytes": nbytes, "frames": frames, "seconds": seconds}))


def episode_array(file: str):
    """The pandas baseline's reading of one parquet file: float32 [frames, entities,
    features], entities ordered agents, then env, by id."""
    import numpy as np
    import pandas as pd

    df = pd.read_parquet(file, columns=["time", "id", "type", *FEATURES])
    df = df.assign(env=df["type"] == "env").sort_values(["time", "env", "type", "id"])
    num_frames = df["time"].nunique()
    return df[FEATURES].to_numpy(np.float32).reshape(num_frames, -1, len(FEATURES))


def child_pandas(files: list[str], window: int, stride: int) -> None:
    """The baseline: the parquet files read with pandas, each made into [frames, entities,
    features] and cut into windows as tensors."""
    import torch

    started = time.perf_counter()
    windows = nbytes = frames = 0
    for file in files:
        values = episode_array(file)
        frames += len(values)
        for start in range(0, len(values) - window + 1, stride):
            features = torch.from_numpy(values[start : start + window])
            windows += 1
            nbytes += features.nbytes
    seconds = time.perf_counter() - started
    print(json.dumps({"windows": windows, "bytes": nbytes, "frames": frames, "seconds": seconds}))


def child_dataloader(files: list[str], window: int, stride: int, workers: int) -> None:
    """The DataLoader alone: the files' windows, read into memory before the clock starts, as
    TrajectoryWindows yields them (the six tensors), through a DataLoader (batch 32, workers,
    collate_windows): what any dataset pays for the batches, whatever it reads."""
    import torch

    from export import collate_windows

    arrays = [torch.from_numpy(episode_array(file)) for file in files]

    class InMemory(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            share = arrays if info is None else arrays[info.id :: info.num_workers]
            for number, values in enumerate(share):
                mask = torch.ones(values.shape[:2], dtype=torch.bool)
                agents = torch.arange(values.shape[1])
                for start in range(0, len(values) - window + 1, stride):
                    yield {
                        "features": values[start : start + window],
                        "mask": mask[start : start + window],
                        "agent_id": agents,
                        "agent_type": agents,
                        "episode_id": torch.tensor(number),
                        "first_frame": torch.tensor(start),
                    }

    started = time.perf_counter()
    windows = nbytes = 0
    loader = torch.utils.data.DataLoader(
        InMemory(), batch_size=BATCH, num_workers=workers, collate_fn=collate_windows
    )
    for batch in loader:
        windows += len(batch["episode_id"])
        nbytes += batch["features"].nbytes
    seconds = time.perf_counter() - started
    frames = sum(len(a) for a in arrays)
    print(json.dumps({"windows": windows, "bytes": nbytes, "frames": frames, "seconds": seconds}))


def run_target(
    target: str, folders: list[Path], args: argparse.Namespace, work: Path
) -> list[Timing]:
    """Build the W2 warehouse of a target, then time every measure on it: W1's measures
    --repeat times, interleaved, W2's once."""
    timings: list[Timing] = []
    with warehouse(target, work) as env:
        load("W2", target, env, folders, work / f"dbt-{target}")
        python = str(BIN / "python")
        me = [python, str(Path(__file__).resolve())]
        shape = ["--window", str(args.window), "--stride", str(args.stride)]
        for name, chosen, repeat in (("W1", folders[:1], args.repeat), ("W2", folders, 1)):
            export = [python, str(REPO_ROOT / "export" / "run.py"), "--target", target]
            export += [a for f in chosen for a in ("--session", f.name)]
            windows = [*me, "child-windows", "--target", target, *shape, *(f.name for f in chosen)]
            files = [str(p) for f in chosen for p in sorted(f.glob("episode-*.parquet"))]
            measures = {
                f"export {name}": lambda c=export: export_run(c, env, work / "out"),
                f"windows {name}": lambda c=windows: child_run(
                    [*c, "--workers", str(args.workers)], env
                ),
            }
            if name == "W1":
                measures["windows W1, 0 w."] = lambda c=windows: child_run(
                    [*c, "--workers", "0"], env
                )
                measures["windows W1, torch collate"] = lambda c=windows: child_run(
                    [*c, "--workers", str(args.workers), "--default-collate"], env
                )
                measures["pandas W1"] = lambda f=files: child_run(
                    [*me, "child-pandas", *shape, *f], {}
                )
                measures["DataLoader alone W1"] = lambda f=files: child_run(
                    [*me, "child-dataloader", *shape, "--workers", str(args.workers), *f], {}
                )
            runs: dict[str, list] = {what: [] for what in measures}
            for _ in range(repeat):
                for what, run in measures.items():
                    runs[what].append(run())
            timings += [measured(target, what, r) for what, r in runs.items()]
    return timings


def render(timings: list[Timing], args: argparse.Namespace) -> str:
    """The markdown report."""
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"window {args.window}, stride {args.stride}, batch {BATCH}, {args.workers} DataLoader "
        f"workers, features {', '.join(FEATURES)}; W1 measures: median of {args.repeat} runs",
        "",
        "| target | what | work s | frames/s | MB/s | windows | process wall s | peak RSS MiB "
        "| vs pandas W1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    pandas = {t.target: t for t in timings if t.what == "pandas W1"}
    for t in timings:
        frames, nbytes = t.counts.get("frames", 0), t.counts.get("bytes", 0)
        ratio = ""
        if t.what.startswith(("windows W1", "DataLoader alone")) and t.target in pandas:
            ratio = f"{pandas[t.target].seconds / t.seconds:.1f}x as fast"
        lines.append(
            f"| {t.target} | {t.what} | {t.seconds:.2f} | {frames / t.seconds:,.0f} | "
            f"{nbytes / 1e6 / t.seconds:,.1f} | {t.counts.get('windows', '')} | {t.wall:.1f} | "
            f"{t.peak_rss_mib:,.0f} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("child-"):
        child = argparse.ArgumentParser()
        child.add_argument("inputs", nargs="+")
        child.add_argument("--target")
        child.add_argument("--window", type=int)
        child.add_argument("--stride", type=int)
        child.add_argument("--workers", type=int, default=0)
        child.add_argument("--default-collate", action="store_true")
        a = child.parse_args(argv[1:])
        if argv[0] == "child-windows":
            child_windows(a.target, a.inputs, a.window, a.stride, a.workers, not a.default_collate)
        else:
            child_pandas(a.inputs, a.window, a.stride)
        return 0
    parser = bench_parser("export.py", __doc__, "export.md")
    parser.add_argument("--targets", default="duckdb,postgres", help="default: %(default)s")
    parser.add_argument(
        "--w2", type=int, default=30, help="W2 episodes, a multiple of 10 (default: %(default)s)"
    )
    parser.add_argument("--window", type=int, default=10, help="default: %(default)s")
    parser.add_argument("--stride", type=int, default=5, help="default: %(default)s")
    parser.add_argument("--workers", type=int, default=2, help="default: %(default)s")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each W1 measure (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    folders = generate(args.data, args.w2 // 10)[:-1]  # without bench/run.py's extra folder
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-export-") as tmp:
        for target in args.targets.split(","):
            timings += run_target(target, folders, args, Path(tmp))
    report = render(timings, args)
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
