"""Generate GNN rollouts of 2D boids models in the real format (../shared/SOURCES.md, section 4).

As the lab's training script writes them, into `{dataset}/rollouts/` under the output folder:
`{save_name}.pkl`, the rollout, `{epoch: {batch: {actual, predicted, actual_acc,
predicted_acc, loss, W}}}` with numpy float32 arrays and torch tensors pickled with plain
`pickle` (protocol 4); `{save_name}.pt`, the model weights (a torch state dict);
`{save_name}_model_spec.pkl` and `{save_name}_train_spec.pkl`, plain dicts.

The trajectories are samples of a 2D dataset (`DatasetSpec`, regenerated from its seed), from
`start_frame` on. The "model" predicts the true acceleration plus seeded noise and integrates
it from the true first position and velocity; its attention goes to the agents within the
visual range (random weights, summing to 1 per agent and head). Deterministic.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from extract.samples.boids_2d import DatasetSpec, samples


@dataclass(frozen=True)
class RolloutSpec:
    """What to generate."""

    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    model_name: str = "vpluspplus_a"
    noise: float = 0.005
    heads: int = 2
    visual_range: float = 0.3  # normalised: agents closer than this are attended to
    seed: int = 0
    rollout_number: int = 5
    start_frame: int = 3
    frames: int = 6  # K: rollout frames
    sample_indices: tuple[int, ...] = (0, 1, 2, 3, 4)  # dataset samples rolled out, in order
    batch_size: int = 3  # the last batch holds the rest
    no_edges: tuple[tuple[int, int], ...] = ((0, 1),)  # (batch, trajectory) without any edge
    acc_noise: float = 0.0005  # stddev of the predicted acceleration's error (normalised)
    diverges: tuple[int, int, int] | None = None  # (batch, trajectory, k): NaN from frame k on
    weights: bool = True  # False: W holds (edge_index, None), as some model variants write

    def __post_init__(self) -> None:
        if self.start_frame < 1 or self.start_frame + self.frames >= self.dataset.steps:
            raise ValueError("need 1 <= start_frame and start_frame + frames < dataset steps")
        if max(self.sample_indices) >= self.dataset.num_samples:
            raise ValueError("sample_indices beyond the dataset's samples")

    @property
    def save_name(self) -> str:
        return (
            f"{self.dataset.name}_{self.model_name}_n{self.noise}_h{self.heads}"
            f"_vr{self.visual_range}_s{self.seed}_rollout{self.rollout_number}"
        )

    @property
    def model_spec(self) -> dict:
        return {
            "model_name": self.model_name,
            "node_feature_function": "vel_plus_pos_plus",
            "node_prediction": "acc",
            "start_frame": self.start_frame,
            "heads": self.heads,
            "self_loops": False,
            "input_dim": 6,
            "hidden_dim": 16,
        }

    @property
    def train_spec(self) -> dict:
        return {"visual_range": self.visual_range, "sigma": self.noise, "epochs": 1}


def _edges(
    positions: np.ndarray, spec: RolloutSpec, batch: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention of one frame of a batch [B, N, 2]: edges j -> i within the visual range."""
    b, n, _ = positions.shape
    distance = np.linalg.norm(positions[:, :, None] - positions[:, None], axis=3)  # [b, i, j]
    near = (distance < spec.visual_range) & ~np.eye(n, dtype=bool)
    for trajectory in range(b):
        if (batch, trajectory) in spec.no_edges:
            near[trajectory] = False
    traj, target, source = np.nonzero(near)
    raw = rng.uniform(0.1, 1.0, (len(target), spec.heads))
    node = traj * n + target
    totals = np.zeros((b * n, spec.heads))
    np.add.at(totals, node, raw)
    weights = (raw / totals[node]).astype(np.float32)
    index = np.stack([traj * n + source, node]).astype(np.int64)
    return torch.from_numpy(index), torch.from_numpy(weights)


def rollout_content(spec: RolloutSpec) -> dict[int, dict[int, dict[str, list]]]:
    """The rollout dict as the training script pickles it."""
    rng = np.random.default_rng(spec.seed)
    sequences = samples(spec.dataset)[0]
    positions = np.stack([np.asarray(sequences[i][0]) for i in spec.sample_indices])  # [M,T,N,2]
    velocity = np.diff(positions, axis=1)  # v[t] = p[t + 1] - p[t]
    s, k = spec.start_frame, spec.frames
    epoch: dict[int, dict[str, list]] = {}
    for number, first in enumerate(range(0, len(spec.sample_indices), spec.batch_size)):
        truth = positions[first : first + spec.batch_size]
        actual_acc = velocity[:, s : s + k] - velocity[:, s - 1 : s + k - 1]
        actual_acc = actual_acc[first : first + spec.batch_size]
        predicted_acc = actual_acc + rng.normal(0.0, spec.acc_noise, actual_acc.shape)
        predicted = np.empty_like(actual_acc)
        pos, vel = truth[:, s], velocity[first : first + spec.batch_size, s - 1]
        for frame in range(k):
            predicted[:, frame] = pos
            vel = vel + predicted_acc[:, frame]
            pos = pos + vel
        if spec.diverges and spec.diverges[0] == number:
            predicted[spec.diverges[1], spec.diverges[2] :] = np.nan
        batch: dict[str, list] = {key: [] for key in ("actual", "predicted", "actual_acc")}
        batch |= {"predicted_acc": [], "loss": [], "W": []}
        for frame in range(k):
            batch["actual"].append(truth[:, s + frame].astype(np.float32))
            batch["predicted"].append(predicted[:, frame].astype(np.float32))
            batch["actual_acc"].append(actual_acc[:, frame].astype(np.float32))
            batch["predicted_acc"].append(predicted_acc[:, frame].astype(np.float32))
            error = predicted_acc[:, frame] - actual_acc[:, frame]
            batch["loss"].append(np.asarray(np.mean(error**2), dtype=np.float32))
            index, weights = _edges(predicted[:, frame], spec, number, rng)
            batch["W"].append((index, weights if spec.weights else None))
        epoch[number] = batch
    return {0: epoch}


def write_rollout(parent: Path, spec: RolloutSpec) -> Path:
    """Write the rollout, its weights and spec pickles under parent/{dataset}/rollouts/;
    return the rollout's path."""
    folder = Path(parent) / spec.dataset.name / "rollouts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.save_name}.pkl"
    with path.open("wb") as out:
        pickle.dump(rollout_content(spec), out, protocol=4)
    for suffix, content in (("_model_spec", spec.model_spec), ("_train_spec", spec.train_spec)):
        with (folder / f"{spec.save_name}{suffix}.pkl").open("wb") as out:
            pickle.dump(content, out, protocol=4)
    torch.manual_seed(spec.seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    torch.save(model.state_dict(), folder / f"{spec.save_name}.pt")
    return path
