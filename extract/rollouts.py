"""GNN rollout pickles (../shared/SOURCES.md, section 4): their names, their spec pickles and
their content, read and checked. No warehouse, no dataset: extract/sources/boids_2d_rollout.py
puts them together.

A rollout `{save_name}.pkl` is `{epoch: {batch: {actual, predicted, actual_acc, predicted_acc,
loss, W}}}`, each a list with one entry per rollout frame k (dataset frame k + start_frame);
positions and accelerations normalised per axis, `(B, N, 2)`; `loss` the batch's MSE at that
frame; `W` the attention `(edge_index (2, E), edge_weight (E, heads) or None)` over the
batch's nodes (node = trajectory * N + agent). Beside it, `{save_name}_model_spec.pkl` and
`{save_name}_train_spec.pkl`, plain dicts of builtins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extract.config_files import check_structure
from extract.errors import InputFileError
from extract.path_safety import present
from extract.safe_pickle import ARRAY_GLOBALS, load_pickle_file
from extract.value_bounds import RANGE_HINT, RANGE_TEXT, within

SUFFIX = ".pkl"
SPEC_SUFFIXES = ("_model_spec", "_train_spec")
# {data_name}_{model_name}_n{noise}_h{heads}_vr{visual_range}_s{seed}_rollout{N}[suffix]
NAME = re.compile(
    r"^(?P<head>.+)_n(?P<noise>[^_]+)_h(?P<heads>\d+)_vr(?P<visual_range>[^_]+)"
    r"_s(?P<seed>\d+)_rollout(?P<rollout_number>\d+)(?P<suffix>.*)$"
)
KEYS = ("actual", "predicted", "actual_acc", "predicted_acc", "loss", "W")
SELF, BOID, FOOD = range(3)  # attention columns: to itself, to other boids, to the food


def is_spec_pickle(path: Path) -> bool:
    return path.suffix == SUFFIX and path.stem.endswith(SPEC_SUFFIXES)


def is_rollout_pickle(path: Path) -> bool:
    return path.suffix == SUFFIX and not is_spec_pickle(path) and bool(NAME.match(path.stem))


def spec_paths(path: Path) -> tuple[Path, Path]:
    """The model spec and train spec pickles of a rollout file."""
    return tuple(path.with_name(path.stem + suffix + SUFFIX) for suffix in SPEC_SUFFIXES)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _number(path: Path, text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputFileError(
            path, f"the {what} in the file name ({text!r}) is not a number"
        ) from None


@dataclass(frozen=True)
class RolloutName:
    """The parts of a rollout's file name; data and model name split by the model spec."""

    save_name: str
    data_name: str
    model_name: str
    noise: float
    heads: int
    visual_range: float
    seed: int
    rollout_number: int
    suffix: str


def parse_name(path: Path, model_name: str) -> RolloutName:
    """Split `{data_name}_{model_name}_n..._rollout{N}`: both names hold underscores, so the
    model name comes from the model spec, never from guessing."""
    match = NAME.match(path.stem)
    if match is None:
        raise InputFileError(
            path, "not a rollout file name (..._n<noise>_h<heads>_vr<range>_s<seed>_rollout<N>)"
        )
    head = match["head"]
    if not head.endswith("_" + model_name) or len(head) == len(model_name) + 1:
        raise InputFileError(
            path,
            f"the file name does not hold the model spec's model_name {model_name!r} after the "
            "data name",
            "is the spec pickle beside the right rollout?",
        )
    return RolloutName(
        save_name=path.stem,
        data_name=head[: -len(model_name) - 1],
        model_name=model_name,
        noise=_number(path, match["noise"], "noise"),
        heads=int(match["heads"]),
        visual_range=_number(path, match["visual_range"], "visual range"),
        seed=int(match["seed"]),
        rollout_number=int(match["rollout_number"]),
        suffix=match["suffix"],
    )


@dataclass(frozen=True)
class Specs:
    model: dict
    train: dict

    @property
    def start_frame(self) -> int:
        return int(self.model["start_frame"])


def read_specs(path: Path) -> Specs:
    """The spec pickles of a rollout (builtins only). Both are required: the model spec states
    the model name (which splits the file name) and start_frame (which aligns the frames)."""
    specs = []
    for spec_path in spec_paths(path):
        if not present(spec_path):
            raise InputFileError(
                path,
                f"its spec pickle {spec_path.name} is missing",
                "the model spec states the model name and start_frame; copy both spec pickles "
                "beside the rollout",
            )
        spec = load_pickle_file(spec_path, {}, "a spec pickle")
        if not isinstance(spec, dict):
            raise InputFileError(spec_path, f"a spec must be a dict, found {type(spec).__name__}")
        check_structure(spec_path, spec)
        specs.append(spec)
    model = specs[0]
    if not isinstance(model.get("model_name"), str) or not model["model_name"]:
        raise InputFileError(spec_paths(path)[0], "the model spec has no model_name")
    start = model.get("start_frame")
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise InputFileError(
            spec_paths(path)[0], f"start_frame must be a non-negative integer, found {start!r}"
        )
    return Specs(model=model, train=specs[1])


@dataclass(frozen=True)
class Batch:
    """One batch of a rollout, checked: arrays [K, B, N, 2] (normalised), loss [K]."""

    epoch: int
    batch: int
    actual: np.ndarray
    predicted: np.ndarray
    actual_acc: np.ndarray
    predicted_acc: np.ndarray
    loss: np.ndarray
    weights: list  # per frame: (edge_index, edge_weight) as read, or None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(K, B, N): frames, trajectories, agents."""
        return self.actual.shape[:3]

    def kept_frames(self, size: np.ndarray) -> np.ndarray:
        """Per trajectory, the frames of its predicted episode: up to the first frame k where
        a predicted position, in pixels (x by size[0], y by size[1]), is not finite or beyond
        MAX_MAGNITUDE (a diverging model), else K."""
        with np.errstate(over="ignore", invalid="ignore"):
            kept = within(self.predicted * size).all(axis=(2, 3))  # [K, B]
        return np.where(kept.all(axis=0), self.shape[0], np.argmin(kept, axis=0))

    def check_truth(self, path: Path, size: np.ndarray) -> None:
        """Refuse actual positions or accelerations beyond MAX_MAGNITUDE in pixels."""
        for key in ("actual", "actual_acc"):
            with np.errstate(over="ignore"):
                outside = np.argwhere(~within(getattr(self, key) * size))
            if outside.size:
                k, b, n, _ = outside[0]
                raise InputFileError(
                    path,
                    f"epoch {self.epoch}, batch {self.batch}: `{key}` of trajectory {b}, agent "
                    f"{n} at frame {k} is {RANGE_TEXT} once in pixels",
                    RANGE_HINT,
                )


def _frames(path: Path, where: str, name: str, values: list) -> np.ndarray:
    """A list of per-frame (B, N, 2) arrays as one float64 array [K, B, N, 2]."""
    try:
        arrays = [np.asarray(value, dtype=np.float64) for value in values]
    except (TypeError, ValueError) as exc:
        raise InputFileError(path, f"{where}: `{name}` holds non-numeric values ({exc})") from exc
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or len(shape := shapes.pop()) != 3 or shape[2] != 2 or 0 in shape:
        raise InputFileError(
            path,
            f"{where}: `{name}` must hold (B, N, 2) arrays of one shape, found "
            f"{sorted({a.shape for a in arrays})}",
        )
    return np.stack(arrays)


def _batch(path: Path, epoch: int, number: int, content: object) -> Batch:
    where = f"epoch {epoch}, batch {number}"
    if not isinstance(content, dict) or not set(KEYS) <= set(content):
        raise InputFileError(path, f"{where}: expected a dict with {', '.join(KEYS)}")
    lists = {key: content[key] for key in KEYS}
    bad = [key for key, value in lists.items() if not isinstance(value, list) or not value]
    if bad:
        raise InputFileError(path, f"{where}: `{bad[0]}` must be a non-empty list (one per frame)")
    lengths = {key: len(value) for key, value in lists.items()}
    if len(set(lengths.values())) != 1:
        raise InputFileError(
            path,
            f"{where}: the lists disagree in frames: "
            + ", ".join(f"{key} {n}" for key, n in lengths.items()),
        )
    arrays = {key: _frames(path, where, key, lists[key]) for key in KEYS[:4]}
    shape = arrays["actual"].shape
    for key in KEYS[1:4]:
        if arrays[key].shape != shape:
            raise InputFileError(
                path,
                f"{where}: `{key}` has shape {list(arrays[key].shape[1:])} per frame, `actual` "
                f"{list(shape[1:])}",
            )
    for key in ("actual", "actual_acc"):
        bad_at = np.argwhere(~np.isfinite(arrays[key]))
        if bad_at.size:
            k, b, n, _ = bad_at[0]
            raise InputFileError(
                path, f"{where}: `{key}` of trajectory {b}, agent {n} at frame {k} is not finite"
            )
    try:
        loss = np.array([np.asarray(value, dtype=np.float64).item() for value in lists["loss"]])
    except (TypeError, ValueError) as exc:
        raise InputFileError(
            path, f"{where}: `loss` must hold one number per frame ({exc})"
        ) from exc
    return Batch(epoch, number, **arrays, loss=loss, weights=lists["W"])


def read_rollout(path: Path) -> list[Batch]:
    """The checked batches of a rollout pickle, in (epoch, batch) order."""
    content = load_pickle_file(path, ARRAY_GLOBALS, "a rollout (numpy arrays, torch tensors)")
    shape_ok = (
        isinstance(content, dict)
        and content
        and all(
            _is_int(epoch) and isinstance(numbers, dict) and numbers and all(map(_is_int, numbers))
            for epoch, numbers in content.items()
        )
    )
    if not shape_ok:
        raise InputFileError(
            path, "expected a rollout: {epoch: {batch: {actual, predicted, ...}}} with integer keys"
        )
    batches = [
        _batch(path, int(epoch), int(number), batch)
        for epoch, numbers in sorted(content.items())
        for number, batch in sorted(numbers.items())
    ]
    agents = {batch.shape[2] for batch in batches}
    if len(agents) != 1:
        raise InputFileError(path, f"the batches disagree in agents (N): {sorted(agents)}")
    return batches


def attention(path: Path, batch: Batch, frame: int, food_agent: bool) -> np.ndarray | None:
    """The attention of each node of a batch at a frame, averaged over heads, as [B, N, 3]:
    to itself, to the other boids (sum), to the food agent (the last one, with food_agent).
    A node's attention is the weight of its incoming edges (a target's weights sum to 1).
    Debatched by node id, so a trajectory without edges has zero attention. None when the
    model wrote no weights."""
    _, b, n = batch.shape
    entry = batch.weights[frame]
    where = f"epoch {batch.epoch}, batch {batch.batch}, frame {frame}"
    if entry is not None and (not isinstance(entry, (tuple, list)) or len(entry) != 2):
        raise InputFileError(path, f"{where}: `W` must be (edge_index, edge_weight)")
    if entry is None or entry[1] is None:
        return None
    try:
        edges, weights = np.asarray(entry[0]), np.asarray(entry[1], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputFileError(path, f"{where}: `W` holds non-numeric values ({exc})") from exc
    if edges.ndim != 2 or edges.shape[0] != 2 or not np.issubdtype(edges.dtype, np.integer):
        raise InputFileError(
            path, f"{where}: edge_index must be integers (2, E), found {list(edges.shape)}"
        )
    weights = weights[:, None] if weights.ndim == 1 else weights
    if weights.ndim != 2 or weights.shape[0] != edges.shape[1]:
        raise InputFileError(
            path,
            f"{where}: edge_weight has shape {list(weights.shape)} for {edges.shape[1]} edges",
        )
    outside = edges[(edges < 0) | (edges >= b * n)]
    if outside.size:
        raise InputFileError(
            path,
            f"{where}: edge_index holds node {outside[0]}, beyond the batch's B*N = {b}*{n} nodes",
        )
    source, target = edges
    crossing = np.flatnonzero(source // n != target // n)
    if crossing.size:
        i = crossing[0]
        raise InputFileError(
            path, f"{where}: an edge joins trajectories {source[i] // n} and {target[i] // n}"
        )
    kind = np.where(
        source == target, SELF, np.where(food_agent & (source % n == n - 1), FOOD, BOID)
    )
    summed = np.bincount(target * 3 + kind, weights=weights.mean(axis=1), minlength=b * n * 3)
    return summed.reshape(b, n, 3)
