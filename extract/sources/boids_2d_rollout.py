"""GNN rollouts of 2D boids models: the models' predictions beside the truth.

A rollout file `{save_name}.pkl` (extract/rollouts.py reads it, with the spec pickles beside
it) is one session. Each trajectory of each batch gives two episodes, `actual` and
`predicted`, each other's counterpart; frames are numbered as in the source dataset
(rollout frame k = dataset frame k + start_frame) and positions are in the source dataset's
pixels (extract/rollout_datasets.py finds the dataset and the sample each trajectory came
from). Lands three raw tables:

- `boids_2d_rollout_sessions`: one row per rollout file: the name's parts, the specs, the
  dataset's size and food;
- `boids_2d_rollout_episodes`: one row per trajectory and role, with its counterpart and the
  matched dataset episode;
- `boids_2d_rollout_frames`: one row per episode, frame and agent: position and the model's
  acceleration (training target for `actual`, output for `predicted`) in pixels, attention
  (predicted only), the batch's loss at that frame.

A predicted trajectory whose positions stop being finite (a diverging model) keeps its frames
before the first non-finite one. Spec pickles are never inputs; model weights (`.pt` state
dicts) are skipped wherever they are found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from extract.config_files import json_text
from extract.fingerprint import sha256_file
from extract.ids import stable_id
from extract.path_safety import present
from extract.rollout_datasets import SourceDataset, find_dataset, match_samples
from extract.rollouts import (
    Batch,
    RolloutName,
    Specs,
    attention,
    is_rollout_pickle,
    is_spec_pickle,
    parse_name,
    read_rollout,
    read_specs,
    spec_paths,
)
from extract.safe_pickle import is_state_dict
from extract.sources import EpisodeRows, SessionInput, Skipped, SourceFamily, boids_2d
from extract.value_bounds import within

CATEGORY = "boids_2d_rollout"
ROLES = ("actual", "predicted")
FRAME_COLUMNS = (
    "episode_id", "t", "agent", "x", "y", "acc_x", "acc_y", "is_food",
    "attn_weight_self", "attn_weight_boid", "attn_weight_food", "batch_loss",
)  # fmt: skip


@dataclass(frozen=True)
class Rollout:
    """A rollout file read and checked, with its specs, name and source dataset."""

    name: RolloutName
    specs: Specs
    dataset: SourceDataset
    batches: list[Batch]
    # per batch, per trajectory: the matched dataset sample index, or None
    samples: list[list[int | None]]
    # per batch, per trajectory: the frames its predicted episode keeps (Batch.kept_frames)
    kept: list[np.ndarray]

    @property
    def num_agents(self) -> int:
        return self.batches[0].shape[2]


@dataclass
class RolloutFile:
    """A rollout file as a session (see extract.sources.SessionInput): its one episode file is
    the rollout, which holds every trajectory. `target` and `dataset_files` (the 2D datasets
    of the run, by name) are set by `prepare` before anything is read."""

    path: Path
    skipped: tuple[Skipped, ...] = ()
    target: str | None = None
    dataset_files: dict[str, Path] = field(default_factory=dict)

    @property
    def episode_files(self) -> list[Path]:
        return [self.path]

    @property
    def session_files(self) -> list[Path]:
        return []  # the rollout and its spec pickles are the episode file's inputs

    def inputs_of(self, file: Path) -> list[Path]:
        """The rollout and its spec pickles."""
        return [file, *(p for p in spec_paths(file) if present(p))]

    @property
    def session_id(self) -> int:
        return stable_id(CATEGORY, self.path.stem)

    def episode_id(self, batch: Batch, trajectory: int, role: str) -> int:
        return stable_id(CATEGORY, self.path.stem, episode_name(batch, trajectory, role))

    def read(self) -> Rollout:
        """Read and check the specs, the rollout and its dataset; match the trajectories."""
        specs = read_specs(self.path)
        name = parse_name(self.path, specs.model["model_name"])
        dataset = find_dataset(self.path, name.data_name, self.target, self.dataset_files)
        batches = read_rollout(self.path)
        size = np.array([dataset.width, dataset.height])
        for batch in batches:
            batch.check_truth(self.path, size)
        return Rollout(
            name=name,
            specs=specs,
            dataset=dataset,
            batches=batches,
            samples=[
                match_samples(dataset, b.actual.transpose(1, 0, 2, 3), specs.start_frame)
                for b in batches
            ],
            kept=[b.kept_frames(size) for b in batches],
        )

    def session_table(self) -> pa.Table:
        return session_table(self, self.read())

    def read_episode(self, file: Path) -> EpisodeRows:
        """The frames and episodes rows of every trajectory of the rollout."""
        rollout = self.read()
        return EpisodeRows(frames_table(self, rollout), episodes_table(self, rollout))


def episode_name(batch: Batch, trajectory: int, role: str) -> str:
    return f"e{batch.epoch}-b{batch.batch}-t{trajectory}-{role}"


def session_table(source: RolloutFile, r: Rollout) -> pa.Table:
    """The one-row `boids_2d_rollout_sessions` table."""
    parts = vars(r.name)
    config = {"model_spec": r.specs.model, "train_spec": r.specs.train, "name": parts}
    k, _, n = r.batches[0].shape
    d = r.dataset
    return pa.table(
        {
            "session_id": pa.array([source.session_id], pa.int64()),
            "session_name": [source.path.stem],
            "source_path": [str(source.path.resolve())],
            "config_json": [json_text(config)],
            **{key: [value] for key, value in parts.items() if key != "save_name"},
            "start_frame": pa.array([r.specs.start_frame], pa.int64()),
            "num_epochs": pa.array([len({b.epoch for b in r.batches})], pa.int64()),
            "num_batches": pa.array([len(r.batches)], pa.int64()),
            "num_trajectories": pa.array([sum(b.shape[1] for b in r.batches)], pa.int64()),
            "num_frames": pa.array([k], pa.int64()),
            "num_agents": pa.array([n], pa.int64()),
            "dataset_session_id": pa.array([d.session_id], pa.int64()),
            "dataset_source": [d.source],
            "width": pa.array([d.width], pa.float64()),
            "height": pa.array([d.height], pa.float64()),
            "food_x": pa.array([d.food[0] if d.food else None], pa.float64()),
            "food_y": pa.array([d.food[1] if d.food else None], pa.float64()),
            "food_agent": [d.food_agent],
        }
    )


def _nullable(values: list[np.ndarray]) -> pa.Array:
    """float64 values; NaN, inf and values beyond MAX_MAGNITUDE (a diverging model's) as
    NULL, no value."""
    joined = np.concatenate(values)
    return pa.array(joined, pa.float64(), mask=~within(joined))


def frames_table(source: RolloutFile, r: Rollout) -> pa.Table:
    """One row per episode, frame and agent: both roles of every trajectory."""
    size = np.array([r.dataset.width, r.dataset.height])
    start, n = r.specs.start_frame, r.num_agents
    columns: dict[str, list[np.ndarray]] = {name: [] for name in FRAME_COLUMNS}
    for batch, kept_frames in zip(r.batches, r.kept, strict=True):
        frames, trajectories, _ = batch.shape
        per_frame = [attention(source.path, batch, k, r.dataset.food_agent) for k in range(frames)]
        no_attention = np.full((trajectories, n, 3), np.nan)
        attn = np.stack([a if a is not None else no_attention for a in per_frame])
        if not r.dataset.food_agent:
            attn[..., 2] = np.nan  # no food to attend to
        for j in range(trajectories):
            for role in ROLES:
                kept = frames if role == "actual" else int(kept_frames[j])
                positions = getattr(batch, role)[:kept, j] * size
                with np.errstate(over="ignore"):  # beyond the bound: NULL (_nullable)
                    acc = getattr(batch, f"{role}_acc")[:kept, j] * size
                weights = attn[:kept, j] if role == "predicted" else np.full((kept, n, 3), np.nan)
                rows = kept * n
                agent = np.tile(np.arange(n, dtype=np.int64), kept)
                columns["episode_id"].append(np.full(rows, source.episode_id(batch, j, role)))
                columns["t"].append(np.repeat(np.arange(kept, dtype=np.int64) + start, n))
                columns["agent"].append(agent)
                columns["x"].append(positions[..., 0].ravel())
                columns["y"].append(positions[..., 1].ravel())
                columns["acc_x"].append(acc[..., 0].ravel())
                columns["acc_y"].append(acc[..., 1].ravel())
                columns["is_food"].append(
                    agent == n - 1 if r.dataset.food_agent else np.zeros(rows, bool)
                )
                for index, column in enumerate(FRAME_COLUMNS[8:11]):
                    columns[column].append(weights[..., index].ravel())
                columns["batch_loss"].append(np.repeat(batch.loss[:kept], n))
    nullable = {"acc_x", "acc_y", *FRAME_COLUMNS[8:]}
    return pa.table(
        {
            name: _nullable(parts) if name in nullable else pa.array(np.concatenate(parts))
            for name, parts in columns.items()
        }
    )


def episodes_table(source: RolloutFile, r: Rollout) -> pa.Table:
    """One row per trajectory and role."""
    rows: list[dict[str, object]] = []
    index = 0
    for batch, samples, kept_frames in zip(r.batches, r.samples, r.kept, strict=True):
        frames, trajectories, n = batch.shape
        for j in range(trajectories):
            ids = {role: source.episode_id(batch, j, role) for role in ROLES}
            sample = samples[j]
            for number, role in enumerate(ROLES):
                kept = frames if role == "actual" else int(kept_frames[j])
                rows.append(
                    {
                        "episode_id": ids[role],
                        "session_id": source.session_id,
                        "episode_number": 2 * index + number,
                        "episode_name": episode_name(batch, j, role),
                        "role": role,
                        "counterpart_episode_id": ids[ROLES[1 - number]],
                        "epoch": batch.epoch,
                        "batch": batch.batch,
                        "trajectory": j,
                        "rollout_frames": frames,
                        "num_frames": kept,
                        "num_agents": n,
                        "num_rows": kept * n,
                        "first_non_finite_frame": (
                            None if kept == frames else kept + r.specs.start_frame
                        ),
                        "dataset_sample": sample,
                        "dataset_episode_id": (
                            None if sample is None else r.dataset.sample_episode_id(sample)
                        ),
                    }
                )
            index += 1
    table = pa.Table.from_pylist(rows, schema=_EPISODE_SCHEMA)
    count, path = table.num_rows, source.path
    return (
        table.append_column("file_name", pa.array([path.name] * count, pa.string()))
        .append_column("file_path", pa.array([str(path.resolve())] * count, pa.string()))
        .append_column("file_size_bytes", pa.array([path.stat().st_size] * count, pa.int64()))
        .append_column("file_sha256", pa.array([sha256_file(path)] * count, pa.string()))
    )


_EPISODE_SCHEMA = pa.schema(
    [
        ("episode_id", pa.int64()),
        ("session_id", pa.int64()),
        ("episode_number", pa.int64()),
        ("episode_name", pa.string()),
        ("role", pa.string()),
        ("counterpart_episode_id", pa.int64()),
        ("epoch", pa.int64()),
        ("batch", pa.int64()),
        ("trajectory", pa.int64()),
        ("rollout_frames", pa.int64()),
        ("num_frames", pa.int64()),
        ("num_agents", pa.int64()),
        ("num_rows", pa.int64()),
        ("first_non_finite_frame", pa.int64()),
        ("dataset_sample", pa.int64()),
        ("dataset_episode_id", pa.int64()),
    ]
)


def find(path: Path) -> list[RolloutFile]:
    """The rollout file at path, if it is one (not a spec pickle); anything but a folder
    named so is one, refused before it is read when it is not a regular file."""
    return [RolloutFile(path)] if is_rollout_pickle(path) and not path.is_dir() else []


def skip(path: Path) -> str | None:
    """Spec pickles (read with their rollout) and model weights are not inputs."""
    if path.is_file() and is_spec_pickle(path):
        return "a rollout's spec pickle (read with the rollout beside it, never an input)"
    if path.is_file() and path.suffix == boids_2d.SUFFIX and is_state_dict(path):
        return "model weights (a torch state dict), not a dataset"
    return None


def prepare(sessions: Sequence[SessionInput], target: str | None) -> None:
    """Give each rollout the run's target (to look up landed datasets) and its 2D datasets."""
    files = {s.path.stem: s.path for s in sessions if isinstance(s, boids_2d.DatasetFile)}
    for session in sessions:
        if isinstance(session, RolloutFile):
            session.target, session.dataset_files = target, files


FAMILY = SourceFamily(
    name=CATEGORY,
    description="GNN rollout of a 2D boids model ({data}_{model}_n.._h.._vr.._s.._rollout<N>.pkl, "
    "with its _model_spec.pkl and _train_spec.pkl beside it; its 2D dataset must be in the "
    "warehouse, in the same run or beside it); model weights (.pt state dicts) are skipped",
    find=find,
    skip=skip,
    prepare=prepare,
)
