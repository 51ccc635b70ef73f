"""Generate realistic 3D boids run folders in the real simulator output format.

A run folder ``{prefix}-started-{started}`` holds ``config.yaml`` and one
``episode-{N}-completed-{YYYYMMDD-HHMMSS}.parquet`` per episode (plus, optionally,
the stray files real runs leave behind). Agents follow vectorised boids rules
(cohesion, separation, alignment, speed limits, soft walls, target attraction);
targets are spheres drifting slowly inside the box and the scene mesh is the
ground plane ``y = 0``. The quirks of real files are switchable through
:class:`RunSpec`.

CLI: ``python -m extract.samples.boids_3d OUT_DIR --episodes 2 --frames 100``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from extract.samples import cli

TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
TARGET_CENTER_SPELLINGS = ("distance_target_center", "distance_to_target_center")
CLOSEST_POINT_DTYPES = ("float64", "float32")

BOX_SIZE = 300.0
TARGET_RADIUS = 10.0
TARGET_SPEED = 0.1  # scene units per frame along the drift circle
TARGET_DRIFT_RADIUS = 15.0
WALL_MARGIN = 0.1 * BOX_SIZE
VIDEO_FPS = 30

AGENT_PARAMS: dict[str, float] = {
    "neighborhood_dist": 25.0,  # visual range
    "min_separation": 4.0,
    "min_ground_separation": 10.0,
    "separation_weight": 0.05,
    "alignment_weight": 0.05,
    "cohesion_weight": 0.005,
    "ground_weight": 0.2,  # soft-wall turn per frame
    "target_weight": 0.05,
    "max_force": 0.1,
    "max_speed": 2.0,
    "min_speed": 0.5,
    "mean_init_velocity": 1.0,
    "variance_init_velocity": 0.2,
    "noise": 0.02,
}


@dataclass(frozen=True)
class RunSpec:
    """What to generate; the non-default quirk settings mimic deviations seen in real runs."""

    num_episodes: int = 2
    num_frames: int = 100  # config simulator.num_frames; parquet holds frames 0..num_frames
    num_agents: int = 10
    num_targets: int = 1
    seed: int = 0
    prefix: str = "hackathon-boid-small"
    started: str = "20250101-120000"  # folder name {prefix}-started-{started}
    spell_target_center: str = "distance_target_center"  # or "distance_to_target_center"
    closest_point_dtype: str = "float64"  # or "float32": element type of list columns
    scene_mesh: bool = True  # False: scene columns are plain float64 holding -1.0
    target_creation_time: int = 0  # agent target columns are null before this frame
    extra_files: bool = True  # package_list.txt, a .log and episode videos

    def __post_init__(self) -> None:
        """Reject specs the real simulator cannot produce."""
        for name in ("num_episodes", "num_frames", "num_agents", "num_targets"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.target_creation_time < 0:
            raise ValueError("target_creation_time must be >= 0")
        if self.spell_target_center not in TARGET_CENTER_SPELLINGS:
            raise ValueError(f"spell_target_center must be one of {TARGET_CENTER_SPELLINGS}")
        if self.closest_point_dtype not in CLOSEST_POINT_DTYPES:
            raise ValueError(f"closest_point_dtype must be one of {CLOSEST_POINT_DTYPES}")
        datetime.strptime(self.started, TIMESTAMP_FORMAT)

    @property
    def folder_name(self) -> str:
        return f"{self.prefix}-started-{self.started}"


def _target_paths(spec: RunSpec, rng: np.random.Generator) -> np.ndarray:
    """Target centres per frame, shape (frames, targets, 3): slow horizontal circles."""
    num_t = spec.num_targets
    base = rng.uniform([0.3, 0.15, 0.3], [0.7, 0.4, 0.7], size=(num_t, 3)) * BOX_SIZE
    phase = rng.uniform(0.0, 2 * np.pi, size=num_t)
    angle = np.arange(spec.num_frames + 1)[:, None] * (TARGET_SPEED / TARGET_DRIFT_RADIUS) + phase
    centres = np.repeat(base[None], spec.num_frames + 1, axis=0)
    centres[..., 0] += TARGET_DRIFT_RADIUS * np.cos(angle)
    centres[..., 2] += TARGET_DRIFT_RADIUS * np.sin(angle)
    return centres


def _limit(vectors: np.ndarray, low: float, high: float) -> np.ndarray:
    """Rescale each row vector so its norm lies in [low, high]."""
    norm = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    return vectors * (np.minimum(np.maximum(norm, low), high) / np.maximum(norm, 1e-12))


def _simulate(
    spec: RunSpec, rng: np.random.Generator, centres: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Run the boids; return positions and velocities, shape (frames, agents, 3).

    velocity[t] is the displacement applied at frame t: pos[t + 1] = pos[t] + velocity[t].
    """
    p = AGENT_PARAMS
    n, frames = spec.num_agents, spec.num_frames + 1
    pos = np.empty((frames, n, 3))
    vel = np.empty((frames, n, 3))
    pos[0] = rng.uniform([0.2, 0.3, 0.2], [0.8, 0.7, 0.8], size=(n, 3)) * BOX_SIZE
    heading = rng.normal(size=(n, 3))
    heading /= np.linalg.norm(heading, axis=1, keepdims=True)
    speed = rng.normal(p["mean_init_velocity"], p["variance_init_velocity"], size=(n, 1))
    v = heading * speed
    noise = rng.normal(scale=p["noise"], size=(frames, n, 3))
    low = np.array([WALL_MARGIN, p["min_ground_separation"], WALL_MARGIN])
    high = BOX_SIZE - WALL_MARGIN
    rows = np.arange(n)
    for t in range(frames):
        x = pos[t]
        sq = np.einsum("ij,ij->i", x, x)
        dist2 = x @ x.T  # becomes pairwise squared distances, self excluded
        dist2 *= -2.0
        dist2 += sq[:, None]
        dist2 += sq[None, :]
        np.fill_diagonal(dist2, np.inf)
        near = (dist2 < p["neighborhood_dist"] ** 2).astype(float)
        close = (dist2 < p["min_separation"] ** 2).astype(float)
        count = near.sum(axis=1, keepdims=True)
        mean_x, mean_v = np.hsplit(near @ np.hstack([x, v]) / np.maximum(count, 1.0), 2)
        steer = (count > 0) * (
            p["cohesion_weight"] * (mean_x - x) + p["alignment_weight"] * (mean_v - v)
        )
        # Separation: -sum over close neighbours j of (x_j - x_i).
        steer -= p["separation_weight"] * (close @ x - close.sum(axis=1, keepdims=True) * x)
        if t >= spec.target_creation_time:
            to_target = centres[t][None, :, :] - x[:, None, :]
            d_target = np.sqrt(np.einsum("itk,itk->it", to_target, to_target))
            k = d_target.argmin(axis=1)
            d_near = d_target[rows, k][:, None]
            sign = np.where(d_near > TARGET_RADIUS, 1.0, -1.0)
            steer += (p["target_weight"] * sign / np.maximum(d_near, 1e-12)) * to_target[rows, k]
        steer = _limit(steer + noise[t], 0.0, p["max_force"])
        walls = p["ground_weight"] * ((x < low).astype(float) - (x > high))
        v = _limit(v + steer + walls, p["min_speed"], p["max_speed"])
        vel[t] = v
        if t + 1 < frames:
            pos[t + 1] = x + v
    return pos, vel


def _float_column(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """float64 column, null where not valid."""
    return pa.array(values, type=pa.float64(), mask=~valid)


def _points_column(points: np.ndarray, valid: np.ndarray, dtype: str) -> pa.Array:
    """list<dtype> column of 3-vectors, null where not valid."""
    offsets = np.zeros(len(points) + 1, dtype=np.int32)
    np.cumsum(valid * 3, out=offsets[1:])
    values = pa.array(points[valid].ravel().astype(dtype))
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~valid))


def _episode_table(spec: RunSpec, rng: np.random.Generator) -> pa.Table:
    """Simulate one episode and lay it out as the simulator's parquet table."""
    centres = _target_paths(spec, rng)
    pos, vel = _simulate(spec, rng, centres)
    n, num_t, frames = spec.num_agents, spec.num_targets, spec.num_frames + 1
    entities = n + num_t
    # Row order: time-major; within a frame agents 1..n, then env (targets) 1..num_t.
    is_agent = np.tile(np.arange(entities) < n, frames)
    time = np.repeat(np.arange(frames, dtype=np.int64), entities)
    has_target = is_agent & (time >= spec.target_creation_time)
    ids = np.tile(np.r_[np.arange(1, n + 1), np.arange(1, num_t + 1)].astype(np.int64), frames)
    xyz = np.concatenate([pos, centres], axis=1).reshape(-1, 3)
    v_xyz = np.concatenate([vel, np.zeros((frames, num_t, 3))], axis=1).reshape(-1, 3)
    types = pa.DictionaryArray.from_arrays(
        pa.array(np.where(is_agent, 0, 1).astype(np.int8)), pa.array(["agent", "env"])
    ).cast(pa.string())

    columns: dict[str, pa.Array] = {
        "id": pa.array(ids),
        "type": types,
        "time": pa.array(time),
        "x": pa.array(xyz[:, 0]),
        "y": pa.array(xyz[:, 1]),
        "z": pa.array(xyz[:, 2]),
        "v_x": _float_column(v_xyz[:, 0], is_agent),
        "v_y": _float_column(v_xyz[:, 1], is_agent),
        "v_z": _float_column(v_xyz[:, 2], is_agent),
    }

    offset = pos[:, :, None, :] - centres[:, None, :, :]  # (frames, agents, targets, 3)
    d_centre = np.linalg.norm(offset, axis=3)
    unit = np.where(
        d_centre[..., None] > 0, offset / np.maximum(d_centre, 1e-12)[..., None], [0.0, 1.0, 0.0]
    )
    surface = centres[:, None, :, :] + TARGET_RADIUS * unit
    d_mesh = np.maximum(d_centre - TARGET_RADIUS, 0.0)

    def per_row(agent_values: np.ndarray) -> np.ndarray:
        """Expand (frames, agents, ...) to one entry per row, zeros on env rows."""
        pad = np.zeros((frames, num_t, *agent_values.shape[2:]))
        return np.concatenate([agent_values, pad], axis=1).reshape(-1, *agent_values.shape[2:])

    centre_cols, mesh_cols, point_cols = {}, {}, {}
    for k in range(num_t):
        centre_cols[f"{spec.spell_target_center}_{k + 1}"] = _float_column(
            per_row(d_centre[:, :, k]), has_target
        )
        mesh_cols[f"distance_to_target_mesh_closest_point_{k + 1}"] = _float_column(
            per_row(d_mesh[:, :, k]), has_target
        )
        point_cols[f"target_mesh_closest_point_{k + 1}"] = _points_column(
            per_row(surface[:, :, k]), has_target, spec.closest_point_dtype
        )
    columns |= centre_cols | mesh_cols | point_cols

    if spec.scene_mesh:
        ground = xyz.copy()
        ground[:, 1] = 0.0
        columns["mesh_scene_distance"] = _float_column(np.abs(xyz[:, 1]), is_agent)
        columns["mesh_scene_closest_point"] = _points_column(
            ground, is_agent, spec.closest_point_dtype
        )
    else:
        sentinel = _float_column(np.full(len(time), -1.0), is_agent)
        columns["mesh_scene_distance"] = sentinel
        columns["mesh_scene_closest_point"] = sentinel
    return pa.table(columns)


def _config(spec: RunSpec) -> dict[str, dict]:
    """The config.yaml content for spec (real section layout, no frame-rate key)."""
    return {
        "simulator": {
            "seed": [spec.seed + e for e in range(spec.num_episodes)],
            "walking": False,
            "num_agents": spec.num_agents,
            "num_targets": spec.num_targets,
            "num_episodes": spec.num_episodes,
            "num_frames": spec.num_frames,
            "target_creation_time": [spec.target_creation_time] * spec.num_targets,
            "show_box": True,
            "run_main_folder": "sim-output",
            "run_sub_folder_prefix": spec.prefix,
        },
        "agent": {
            **AGENT_PARAMS,
            "target_weight": [AGENT_PARAMS["target_weight"]] * spec.num_targets,
        },
        "environment": {
            "box_size": BOX_SIZE,
            "scene_scale": 200.0,
            "scene_position": [BOX_SIZE / 2, 0.0, BOX_SIZE / 2],
            "target_speed": TARGET_SPEED,
        },
        "meshes": {
            "mesh_scene": "meshes/ground-plane.ply" if spec.scene_mesh else None,
            "scene_angle": [-90.0, 0.0, 0.0],
            "sub_mesh_target": "meshes/labeled_meshes/target-sphere.ply",
        },
        "visuals": {
            "store_video": spec.extra_files,
            "show_visualizer": False,
            "width": 1280,
            "height": 720,
            "video_fps": VIDEO_FPS,
            "video_file_extension": "mp4",
        },
        "tracks": {"color_by_time": True, "number_of_color_groups": 200, "track_color_rate": 3},
    }


def _write_extra_files(folder: Path, spec: RunSpec, finished: list[datetime]) -> None:
    """Write the stray files real runs leave beside the episodes."""
    packages = ["numpy==2.1.3", "open3d==0.19.0", "pandas==2.2.3", "pyarrow==18.1.0"]
    (folder / "package_list.txt").write_text("\n".join(packages) + "\n")
    log = [f"{spec.started} | INFO | run started: {spec.num_episodes} episodes"]
    log += [
        f"{f:{TIMESTAMP_FORMAT}} | INFO | episode {e} completed" for e, f in enumerate(finished)
    ]
    (folder / f"logfile-{spec.started}.log").write_text("\n".join(log) + "\n")
    for e in range(spec.num_episodes):
        (folder / f"episode-{e}-video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")


def write_run_folder(parent: Path, spec: RunSpec) -> Path:
    """Write one run folder under parent and return its path."""
    folder = Path(parent) / spec.folder_name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(_config(spec), sort_keys=False))
    clock = datetime.strptime(spec.started, TIMESTAMP_FORMAT)
    finished = []
    for episode in range(spec.num_episodes):
        rng = np.random.default_rng(spec.seed + episode)
        table = _episode_table(spec, rng)
        # Plausible wall-clock cost of simulating and rendering the episode.
        seconds = 5 + spec.num_frames * (0.01 + 0.001 * spec.num_agents) + int(rng.integers(0, 10))
        clock += timedelta(seconds=round(seconds))
        finished.append(clock)
        name = f"episode-{episode}-completed-{clock:{TIMESTAMP_FORMAT}}.parquet"
        # Dictionary-encoding the float columns is 3x slower and gains nothing.
        pq.write_table(table, folder / name, use_dictionary=["id", "type", "time"])
    if spec.extra_files:
        _write_extra_files(folder, spec, finished)
    return folder


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write one run folder and print its path."""
    d = RunSpec()
    options = cli.parser(
        "python -m extract.samples.boids_3d",
        "Write a synthetic 3D boids run folder.",
        "parent directory of the run folder",
    )
    add = options.add_argument
    add(
        "--episodes",
        dest="num_episodes",
        type=int,
        default=d.num_episodes,
        help="number of episodes",
    )
    add("--frames", dest="num_frames", type=int, default=d.num_frames, help="simulator.num_frames")
    add("--agents", dest="num_agents", type=int, default=d.num_agents, help="number of boids")
    add("--targets", dest="num_targets", type=int, default=d.num_targets, help="number of targets")
    add("--seed", type=int, default=d.seed, help="seed of episode 0")
    add("--prefix", default=d.prefix, help="run folder name prefix")
    add("--started", default=d.started, help="start stamp YYYYMMDD-HHMMSS")
    add(
        "--spell-to-target-center",
        dest="spell_target_center",
        action="store_const",
        const="distance_to_target_center",
        help="quirk: name columns distance_to_target_center_{k}",
    )
    add(
        "--float32",
        dest="closest_point_dtype",
        action="store_const",
        const="float32",
        help="quirk: closest-point lists hold float32",
    )
    add(
        "--no-scene-mesh",
        dest="scene_mesh",
        action="store_false",
        help="quirk: no scene mesh, scene columns are plain float64 holding -1.0",
    )
    add(
        "--target-creation-time",
        type=int,
        default=d.target_creation_time,
        help="quirk: agent target columns are null before this frame",
    )
    add(
        "--no-extra-files",
        dest="extra_files",
        action="store_false",
        help="skip package_list.txt, the .log and the episode videos",
    )
    return cli.generate(options, argv, RunSpec, write_run_folder)


if __name__ == "__main__":
    raise SystemExit(main())
