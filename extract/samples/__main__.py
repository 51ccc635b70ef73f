"""`python -m extract.samples DIR`: write the built-in demo data set under DIR."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from extract.samples.boids3d import Boids3DSpec, write_run_folder

DEMO_RUNS = (
    Boids3DSpec(
        num_episodes=3,
        num_frames=1000,
        num_agents=30,
        num_targets=1,
        seed=1,
        prefix="hackathon-boid-demo",
        started="20250601-093000",
        target_creation_time=100,
    ),
    Boids3DSpec(
        num_episodes=2,
        num_frames=600,
        num_agents=20,
        num_targets=2,
        seed=101,
        prefix="two-targets-no-scene",
        started="20250602-141500",
        spell_target_center="distance_to_target_center",
        closest_point_dtype="float32",
        scene_mesh=False,
    ),
)


def main(argv: list[str] | None = None) -> int:
    """Write every demo session and print where."""
    parser = argparse.ArgumentParser(
        prog="python -m extract.samples",
        description="Write the built-in demo data set: 3D boids run folders in the real file "
        "format, including the quirks of real files (see ../shared/SOURCES.md). Deterministic: "
        "rerunning rewrites the same files.",
    )
    parser.add_argument("output_dir", type=Path, help="folder to write the sessions into")
    args = parser.parse_args(argv)
    for spec in DEMO_RUNS:
        started = time.perf_counter()
        folder = write_run_folder(args.output_dir, spec)
        print(f"wrote {folder} ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
