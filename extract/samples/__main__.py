"""`python -m extract.samples DIR`: write the built-in demo data set under DIR."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_2d_rollout import RolloutSpec, write_rollout
from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.samples.tracking_csv import SessionSpec, write_session_folder

DEMO_RUNS = (
    RunSpec(
        num_episodes=3,
        num_frames=1000,
        num_agents=30,
        num_targets=1,
        seed=1,
        prefix="hackathon-boid-demo",
        started="20250601-093000",
        target_creation_time=100,
    ),
    RunSpec(
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

# Two fieldwork sessions: one as the lab's pipeline writes it (aligned_frames/, thermal_1 tracks
# carried over to rgb_1 boxes and 3D centroids, an empty thermal_2, detector output, masks and
# videos beside them, metadata.yaml), and one in the older flat layout with a bboxes, a tracks and
# a centroids_3d camera and a frame rate in Metadata.yaml.
DEMO_TRACKING_SESSIONS = (
    SessionSpec(date="2025_06_10", number=2, num_animals=6, num_frames=900, seed=5),
    SessionSpec(
        date="2025_06_03",
        number=1,
        layout="flat",
        num_animals=6,
        num_frames=900,
        frame_rate=25.0,
        seed=7,
    ),
)

# Two 2D datasets: two species on 640x480, and a food dataset (the last agent is the food).
DEMO_DATASETS_2D = (
    DatasetSpec(
        name="boids_2d-two-species", num_samples=40, steps=60, species_counts=(12, 8), seed=2
    ),
    DatasetSpec(
        name="boids_2d-food",
        num_samples=20,
        steps=80,
        species_counts=(15,),
        seed=3,
        food=(420.0, 260.0),
    ),
    # a food point in the config but no food agent, the class pickled as top-level
    # `animal_simulation` (both real quirks, ../shared/SOURCES.md)
    DatasetSpec(
        name="boids_2d-food-point",
        num_samples=10,
        steps=60,
        species_counts=(12,),
        seed=4,
        width=800,
        height=600,
        food=(500.0, 300.0),
        food_agent=False,
        class_module="animal_simulation",
    ),
)

# GNN rollouts of the three 2D datasets, written under trained_models/ as the training script
# writes them (weights and spec pickles beside each): a middle trajectory without edges in
# the first batch, a smaller last batch.
DEMO_ROLLOUTS = tuple(
    RolloutSpec(
        dataset=dataset,
        seed=i,
        start_frame=5,
        frames=30,
        sample_indices=tuple(range(7)),
        batch_size=3,
        no_edges=((0, 1),),
        acc_noise=0.002,
        visual_range=0.2,
    )
    for i, dataset in enumerate(DEMO_DATASETS_2D)
)


def _write_rollout(output_dir: Path, spec: RolloutSpec) -> Path:
    return write_rollout(output_dir / "trained_models", spec)


def main(argv: list[str] | None = None) -> int:
    """Write every demo session and print where."""
    parser = argparse.ArgumentParser(
        prog="python -m extract.samples",
        description="Write the built-in demo data set: 3D boids run folders in the real file "
        "format, including the quirks of real files (see ../shared/SOURCES.md), two tracking "
        "session folders of camera CSV files (the lab's pipeline layout and the flat one), "
        "2D boids .pt datasets and GNN rollouts of them. Deterministic: "
        "rerunning rewrites the same files.",
    )
    parser.add_argument("output_dir", type=Path, help="folder to write the sessions into")
    args = parser.parse_args(argv)
    jobs = [(write_run_folder, spec) for spec in DEMO_RUNS]
    jobs += [(write_session_folder, spec) for spec in DEMO_TRACKING_SESSIONS]
    jobs += [(write_dataset, spec) for spec in DEMO_DATASETS_2D]
    jobs += [(_write_rollout, spec) for spec in DEMO_ROLLOUTS]
    for write, spec in jobs:
        started = time.perf_counter()
        folder = write(args.output_dir, spec)
        print(f"wrote {folder} ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
