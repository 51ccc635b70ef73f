"""The 2D dataset a rollout was made from, and which of its samples each trajectory is.

A rollout stores normalised positions; its pixels are the source dataset's width and height.
The dataset is looked up, in order, among the 2D sessions already in the warehouse (session
name = the rollout's data name), then as a dataset file `{data_name}.pt` among the files of
this run or beside the rollout. Each trajectory is matched to the dataset sample whose
positions at frames start_frame .. start_frame + K - 1 equal its `actual` ones within
MATCH_TOLERANCE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extract.errors import InputFileError
from extract.ids import stable_id
from extract.path_safety import check_session, present
from extract.settings import RAW_SCHEMA
from extract.sources.boids_2d import CATEGORY as DATASET_CATEGORY
from extract.sources.boids_2d import DatasetFile
from extract.warehouse import read_raw

# Normalised units, every coordinate of every agent and frame (0.064 px on 640-wide data): the
# rollout's float32 copy of a float64 dataset position differs by about 6e-8.
MATCH_TOLERANCE = 1e-4


@dataclass(frozen=True)
class SourceDataset:
    """What a rollout needs of its dataset."""

    name: str
    session_id: int  # its boids_2d session id (the episode of sample i: sample_episode_id(i))
    width: float
    height: float
    food: tuple[float, float] | None  # pixels
    food_agent: bool  # the last agent is the food
    source: str  # `warehouse` or the dataset file's path
    # (t0, t1, n) -> (sample indices [S], normalised positions [S, t1 - t0, n, 2]) of the
    # samples that have n agents and frames up to t1 - 1
    positions: Callable[[int, int, int], tuple[np.ndarray, np.ndarray]]

    def sample_episode_id(self, sample: int) -> int:
        return stable_id(DATASET_CATEGORY, self.name, str(sample))


def _raw(table: str) -> str:
    return f"{RAW_SCHEMA}.{table}"


def from_warehouse(target: str, name: str) -> SourceDataset | None:
    """The landed 2D session named `name`, or None."""
    session_id = stable_id(DATASET_CATEGORY, name)
    tables = ["boids_2d_sessions", "boids_2d_episodes", "boids_2d_frames"]
    rows = read_raw(
        target,
        f"select width, height, food_x, food_y, "
        f"(select count(*) from {_raw('boids_2d_frames')} f join {_raw('boids_2d_episodes')} e "
        f"on e.episode_id = f.episode_id where e.session_id = s.session_id and f.is_food) "
        f"from {_raw('boids_2d_sessions')} s where s.session_id = {session_id}",
        tables,
    )
    if not rows:
        return None
    width, height, food_x, food_y, food_rows = rows[0]
    size = np.array([width, height])

    def positions(t0: int, t1: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        frames = read_raw(
            target,
            f"select e.sample_index, f.x, f.y from {_raw('boids_2d_frames')} f "
            f"join {_raw('boids_2d_episodes')} e on e.episode_id = f.episode_id "
            f"where e.session_id = {session_id} and e.num_agents = {n} "
            f"and e.num_frames >= {t1} and f.t >= {t0} and f.t < {t1} "
            "order by e.sample_index, f.t, f.agent",
            tables,
        )
        if not frames:
            return np.zeros(0, np.int64), np.zeros((0, t1 - t0, n, 2))
        table = np.array(frames, dtype=np.float64).reshape(-1, t1 - t0, n, 3)
        return table[:, 0, 0, 0].astype(np.int64), table[..., 1:] / size

    return SourceDataset(
        name=name,
        session_id=session_id,
        width=float(width),
        height=float(height),
        food=(food_x, food_y) if food_x is not None else None,
        food_agent=food_rows > 0,
        source="warehouse",
        positions=positions,
    )


def from_file(path: Path) -> SourceDataset:
    """A dataset file (and its config beside it), read as the boids_2d family reads it."""
    source = DatasetFile(path)
    d = source.read()

    def positions(t0: int, t1: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        keep = [i for i, p in enumerate(d.positions) if p.shape[0] >= t1 and p.shape[1] == n]
        stacked = np.array([d.positions[i][t0:t1] for i in keep]).reshape(-1, t1 - t0, n, 2)
        return np.array(keep, dtype=np.int64), stacked

    return SourceDataset(
        name=path.stem,
        session_id=source.session_id,
        width=d.width,
        height=d.height,
        food=d.food,
        food_agent=d.food_agent,
        source=str(path.resolve()),
        positions=positions,
    )


def find_dataset(
    rollout: Path, name: str, target: str | None, run_files: Mapping[str, Path]
) -> SourceDataset:
    """The dataset named `name`: in the warehouse (with a target), else a dataset file of this
    run, else `{name}.pt` beside the rollout; else the rollout is refused."""
    found = from_warehouse(target, name) if target else None
    if found is not None:
        return found
    beside = rollout.with_name(f"{name}.pt")
    for path in (run_files.get(name), beside):
        if path is not None and present(path):
            check_session(DatasetFile(path))  # read as its own session would be
            return from_file(path)
    raise InputFileError(
        rollout,
        f"its source dataset {name!r} is neither in the warehouse nor beside it",
        f"load the 2D dataset {name}.pt first (or give it in the same run): its width and "
        "height scale the rollout's positions",
    )


def match_samples(dataset: SourceDataset, actual: np.ndarray, start_frame: int) -> list[int | None]:
    """For each trajectory of `actual` [M, K, N, 2] (normalised), the lowest dataset sample
    index whose frames start_frame .. start_frame + K - 1 match it, or None."""
    _, frames, agents, _ = actual.shape
    samples, positions = dataset.positions(start_frame, start_frame + frames, agents)
    matched: list[int | None] = []
    for trajectory in actual:
        first = np.abs(positions[:, 0] - trajectory[0]).max(axis=(1, 2), initial=0.0)
        candidates = np.flatnonzero(first <= MATCH_TOLERANCE)
        whole = [
            int(samples[i])
            for i in candidates
            if np.abs(positions[i] - trajectory).max() <= MATCH_TOLERANCE
        ]
        matched.append(whole[0] if whole else None)
    return matched
