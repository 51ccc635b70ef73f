"""2D boids simulation datasets (PyTorch `.pt` files).

A dataset file `X.pt`, with an optional config `X_config.pt` beside it, is one session; each
sample in it is one episode, with agent id = index in the sample and no z. The file holds the
lab's `AnimalTrajectoryDataset` (attributes width, height, N, species_to_idx, sequences) or a
plain list of samples; a sample is (positions [T, N, 2] normalised by width/height, species [N]),
as numpy arrays, lists or tensors. Files are loaded by `extract.safe_pickle`, which runs no code
from them. Lands three raw tables:

- `boids_2d_sessions`: one row per dataset file: config as JSON text, the pixel size used (and
  where it came from), N, species_to_idx, the food position in pixels;
- `boids_2d_episodes`: one row per sample;
- `boids_2d_frames`: one row per sample, frame and agent: position in pixels, species, food flag.

Pixels: x * width, y * height, with width/height from the dataset, else the config, else
`DEFAULT_SIZE`. Velocities are derived in dbt (int_boids_2d__frames), not here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from extract.config_files import check_structure, json_text
from extract.errors import InputFileError
from extract.fingerprint import sha256_file
from extract.ids import stable_id
from extract.path_safety import present
from extract.safe_pickle import AnimalTrajectoryDataset, is_state_dict, load_torch_file
from extract.sources import EpisodeRows, Skipped, SourceFamily
from extract.value_bounds import RANGE_HINT, RANGE_TEXT, within

CATEGORY = "boids_2d"
SUFFIX = ".pt"
CONFIG_SUFFIX = "_config.pt"
DEFAULT_SIZE = 480.0  # pixels per axis when neither the dataset nor its config states a size
FOOD_TOLERANCE = 0.01  # pixels between the config's food position and the food agent's


@dataclass(frozen=True)
class Dataset:
    """The checked content of one dataset file and its config."""

    container: str  # "AnimalTrajectoryDataset" or "list"
    positions: list[np.ndarray]  # per sample: float64 [T, N, 2], normalised
    species: list[np.ndarray]  # per sample: int64 [N]
    num_agents: int | None
    species_to_idx: dict[str, int] | None
    config: dict | None
    width: float
    height: float
    size_source: str  # "dataset", "config" or "default"
    food: tuple[float, float] | None  # pixels, the food position the config states
    food_agent: bool  # the last agent of every sample is the food (else all agents are boids)


def _is_int(value: object) -> bool:
    """An int (Python or numpy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    """An int or float (Python or numpy), not a bool."""
    return _is_int(value) or isinstance(value, (float, np.floating))


def _number(value: object) -> float | None:
    """A finite positive number as float, else None."""
    if not _is_real(value):
        return None
    number = float(value)
    return number if math.isfinite(number) and number > 0 else None


def _size_pair(width: object, height: object) -> tuple[float, float] | None:
    w, h = _number(width), _number(height)
    return (w, h) if w is not None and h is not None else None


def _config_size(path: Path, config: dict) -> tuple[float, float] | None:
    """width/height stated by the species entries (they must agree), else `scene_size`."""
    stated = {
        pair
        for entry in config.values()
        if isinstance(entry, dict) and (pair := _size_pair(entry.get("width"), entry.get("height")))
    }
    if len(stated) > 1:
        raise InputFileError(
            path, f"species entries state different width/height: {sorted(stated)}"
        )
    if stated:
        return stated.pop()
    scene = config.get("scene_size")
    if isinstance(scene, (list, tuple)) and len(scene) == 2:
        return _size_pair(*scene)
    return _size_pair(scene, scene)


def _top_level_food(config: dict) -> list[dict]:
    """The config's top-level food entries (`food0`): they state a food agent."""
    return [v for k, v in config.items() if "food" in str(k) and isinstance(v, dict)]


def _food_position(path: Path, config: dict) -> tuple[float, float] | None:
    """The food position the config states: top-level food entries (`food0`), else the
    species entries' nested `food`; None for a dataset without food."""
    entries = _top_level_food(config)
    entries += [
        v["food"]
        for v in config.values()
        if isinstance(v, dict) and isinstance(v.get("food"), dict)
    ]
    found = {
        (float(e["x"]), float(e["y"]))
        for e in entries
        if _is_real(e.get("x")) and _is_real(e.get("y"))
    }
    if len(found) > 1:
        raise InputFileError(
            path, f"the config states several food positions {sorted(found)}; one is supported"
        )
    if found and not within(np.array(list(found))).all():
        raise InputFileError(path, f"the food position {found.pop()} is {RANGE_TEXT}", RANGE_HINT)
    return found.pop() if found else None


def read_config(path: Path) -> dict:
    """An `X_config.pt` file: a dict with one entry per species (and food)."""
    config = load_torch_file(path)
    if not isinstance(config, dict):
        raise InputFileError(path, f"the config must be a dict, found {type(config).__name__}")
    check_structure(path, config)
    return config


def _samples_and_header(path: Path, obj: object) -> tuple[str, list, dict]:
    """(container, samples, dataset attributes) of a loaded dataset file."""
    if isinstance(obj, AnimalTrajectoryDataset):
        attrs = dict(vars(obj))
        samples = attrs.pop("sequences", None)
        if not isinstance(samples, list):
            raise InputFileError(path, "the dataset object has no list of `sequences`")
        return "AnimalTrajectoryDataset", samples, attrs
    if isinstance(obj, list):
        return "list", obj, {}
    raise InputFileError(
        path,
        "expected an AnimalTrajectoryDataset or a list of (positions, species) samples, "
        f"found {type(obj).__name__}",
    )


def _sample(path: Path, index: int, sample: object) -> tuple[np.ndarray, np.ndarray]:
    """Check one (positions, species) sample; positions as float64 [T, N, 2]."""
    if not isinstance(sample, (tuple, list)) or len(sample) != 2:
        raise InputFileError(path, f"sample {index} is not a (positions, species) pair")
    try:
        positions, species = (np.asarray(part) for part in sample)
    except (ValueError, TypeError) as exc:
        raise InputFileError(path, f"sample {index}: not numeric arrays ({exc})") from exc
    if positions.ndim != 3 or positions.shape[2] != 2 or 0 in positions.shape:
        raise InputFileError(
            path,
            f"sample {index}: positions have shape {list(positions.shape)}, expected [T, N, 2]",
        )
    if not (
        np.issubdtype(positions.dtype, np.floating) or np.issubdtype(positions.dtype, np.integer)
    ):
        raise InputFileError(
            path, f"sample {index}: positions must be numbers, found {positions.dtype}"
        )
    positions = positions.astype(np.float64, copy=False)
    bad = np.argwhere(~np.isfinite(positions))
    if bad.size:
        t, agent, _ = bad[0]
        raise InputFileError(
            path, f"sample {index}: position at frame {t}, agent {agent} is not a finite number"
        )
    n = positions.shape[1]
    if species.ndim != 1 or len(species) != n:
        raise InputFileError(
            path,
            f"sample {index}: species has shape {list(species.shape)} but the positions hold "
            f"{n} agents",
        )
    if not np.issubdtype(species.dtype, np.integer) or (species < 0).any():
        raise InputFileError(
            path,
            f"sample {index}: species must be non-negative integer labels, found {species.dtype}",
        )
    return positions, species.astype(np.int64)


def _num_agents(path: Path, attrs: dict, positions: list[np.ndarray]) -> int | None:
    """The dataset's N (checked against every sample), else the samples' common N."""
    counts = {p.shape[1] for p in positions}
    stated = attrs.get("N")
    if stated is None:
        return counts.pop() if len(counts) == 1 else None
    if not _is_int(stated):
        raise InputFileError(path, f"the dataset's N must be an integer, found {stated!r}")
    wrong = next((i for i, p in enumerate(positions) if p.shape[1] != stated), None)
    if wrong is not None:
        raise InputFileError(
            path,
            f"sample {wrong}: positions hold {positions[wrong].shape[1]} agents but the "
            f"dataset's N is {stated}",
        )
    return int(stated)


def _species_to_idx(path: Path, attrs: dict) -> dict[str, int] | None:
    mapping = attrs.get("species_to_idx")
    if mapping is None:
        return None
    if not isinstance(mapping, dict) or not all(_is_int(v) for v in mapping.values()):
        raise InputFileError(path, "species_to_idx must map species names to integer labels")
    return {str(k): int(v) for k, v in mapping.items()}


def _check_food(
    path: Path, food: tuple[float, float], positions: list[np.ndarray], size: tuple[float, float]
) -> tuple[float, float]:
    """The food position in pixels. Real configs state it in the simulator's pixel units (the
    simulator places the food agent there and stores positions divided by width/height); a
    normalised one is recognised the same way, by matching the food agent, and scaled."""
    stated, scale = np.array(food), np.array(size)
    tracks = [p[:, -1, :] * scale for p in positions]  # the last agent, in pixels
    for candidate in (stated, stated * scale):
        if all(np.abs(track - candidate).max() <= FOOD_TOLERANCE for track in tracks):
            return float(candidate[0]), float(candidate[1])
    raise InputFileError(
        path,
        f"the last agent (the food) is not at the config's food position {food} in every frame",
        "is the config beside the right dataset?",
    )


def _check_range(path: Path, positions: list[np.ndarray], size: tuple[float, float]) -> None:
    """Refuse a position that is beyond MAX_MAGNITUDE in pixels (extract/value_bounds.py)."""
    for index, sample in enumerate(positions):
        with np.errstate(over="ignore"):
            pixels = sample * np.array(size)
        outside = np.argwhere(~within(pixels))
        if outside.size:
            t, agent, axis = outside[0]
            raise InputFileError(
                path,
                f"sample {index}: position at frame {t}, agent {agent} is "
                f"{pixels[t, agent, axis]} pixels in {'xy'[axis]}, {RANGE_TEXT}",
                RANGE_HINT,
            )


def read_dataset(path: Path, config_path: Path | None) -> Dataset:
    """Load and check a dataset file and its config; nothing of a file that fails is kept."""
    config = read_config(config_path) if config_path else None
    container, raw_samples, attrs = _samples_and_header(path, load_torch_file(path))
    if not raw_samples:
        raise InputFileError(path, "the dataset holds no samples")
    samples = [_sample(path, i, sample) for i, sample in enumerate(raw_samples)]
    positions = [p for p, _ in samples]
    size, source = _size_pair(attrs.get("width"), attrs.get("height")), "dataset"
    if size is None and config is not None:
        size, source = _config_size(config_path, config), "config"
    if size is None:
        size, source = (DEFAULT_SIZE, DEFAULT_SIZE), "default"
    _check_range(path, positions, size)
    food = _food_position(config_path, config) if config is not None else None
    # A food agent when the config has a top-level food entry or the dataset a food species;
    # a food point stated only inside the species entries attracts boids, nothing is food.
    mapping = _species_to_idx(path, attrs)
    food_agent = food is not None and (
        bool(_top_level_food(config)) or any("food" in name for name in mapping or {})
    )
    return Dataset(
        container=container,
        positions=positions,
        species=[s for _, s in samples],
        num_agents=_num_agents(path, attrs, positions),
        species_to_idx=mapping,
        config=config,
        width=size[0],
        height=size[1],
        size_source=source,
        food=_check_food(path, food, positions, size) if food_agent else food,
        food_agent=food_agent,
    )


def _column(values: list[np.ndarray]) -> pa.Array:
    return pa.array(np.concatenate(values))


@dataclass(frozen=True)
class DatasetFile:
    """A dataset file as a session (see extract.sources.SessionInput). Its one episode file is
    the dataset itself, which holds every sample: read_episode returns the rows of all of them.
    session_table() and read_episode() each load the file (nothing is kept between calls, so
    memory is bounded by one file whatever the caller does)."""

    path: Path
    skipped: tuple[Skipped, ...] = ()

    @property
    def config_path(self) -> Path | None:
        config = self.path.with_name(self.path.stem + CONFIG_SUFFIX)
        return config if present(config) else None

    @property
    def episode_files(self) -> list[Path]:
        return [self.path]

    @property
    def session_files(self) -> list[Path]:
        return []  # the dataset and its config are the episode file's inputs

    def inputs_of(self, file: Path) -> list[Path]:
        """The dataset and its config (the food position and flags come from it)."""
        return [file, *([self.config_path] if self.config_path else [])]

    @property
    def session_id(self) -> int:
        return stable_id(CATEGORY, self.path.stem)

    def episode_id(self, sample: int) -> int:
        return stable_id(CATEGORY, self.path.stem, str(sample))

    def read(self) -> Dataset:
        """Load and check the dataset file and its config."""
        return read_dataset(self.path, self.config_path)

    def session_table(self) -> pa.Table:
        """The one-row `boids_2d_sessions` table."""
        return session_table(self, self.read())

    def read_episode(self, file: Path) -> EpisodeRows:
        """The `boids_2d_frames` and `boids_2d_episodes` rows of every sample in the file."""
        dataset = self.read()
        ids = [self.episode_id(i) for i in range(len(dataset.positions))]
        return EpisodeRows(frames_table(dataset, ids), episodes_table(self, dataset, ids))


def session_table(source: DatasetFile, d: Dataset) -> pa.Table:
    """The one-row `boids_2d_sessions` table of a dataset file."""
    config_json = json_text(d.config) if d.config else None
    mapping = json.dumps(d.species_to_idx) if d.species_to_idx is not None else None
    config_path = source.config_path
    return pa.table(
        {
            "session_id": pa.array([source.session_id], pa.int64()),
            "session_name": [source.path.stem],
            "source_path": [str(source.path.resolve())],
            "config_path": pa.array(
                [str(config_path.resolve()) if config_path else None], pa.string()
            ),
            "config_json": pa.array([config_json], pa.string()),
            "container": [d.container],
            "num_samples": pa.array([len(d.positions)], pa.int64()),
            "num_agents": pa.array([d.num_agents], pa.int64()),
            "species_to_idx_json": pa.array([mapping], pa.string()),
            "width": pa.array([d.width], pa.float64()),
            "height": pa.array([d.height], pa.float64()),
            "size_source": [d.size_source],
            "food_x": pa.array([d.food[0] if d.food else None], pa.float64()),
            "food_y": pa.array([d.food[1] if d.food else None], pa.float64()),
        }
    )


def frames_table(d: Dataset, episode_ids: list[int]) -> pa.Table:
    """One row per sample, frame and agent, positions in pixels."""
    columns: dict[str, list[np.ndarray]] = {
        k: [] for k in ("episode_id", "t", "agent", "species", "x", "y", "is_food")
    }
    for episode_id, positions, species in zip(episode_ids, d.positions, d.species, strict=True):
        frames, n, _ = positions.shape
        agent = np.tile(np.arange(n, dtype=np.int64), frames)
        columns["episode_id"].append(np.full(frames * n, episode_id, dtype=np.int64))
        columns["t"].append(np.repeat(np.arange(frames, dtype=np.int64), n))
        columns["agent"].append(agent)
        columns["species"].append(np.tile(species, frames))
        columns["x"].append(positions[:, :, 0].ravel() * d.width)
        columns["y"].append(positions[:, :, 1].ravel() * d.height)
        columns["is_food"].append(agent == n - 1 if d.food_agent else np.zeros(frames * n, bool))
    return pa.table({name: _column(parts) for name, parts in columns.items()})


def episodes_table(source: DatasetFile, d: Dataset, episode_ids: list[int]) -> pa.Table:
    """One row per sample."""
    path, count = source.path, len(episode_ids)
    shapes = np.array([p.shape[:2] for p in d.positions], dtype=np.int64)
    return pa.table(
        {
            "episode_id": pa.array(episode_ids, pa.int64()),
            "session_id": pa.array(np.full(count, source.session_id, dtype=np.int64)),
            "sample_index": pa.array(np.arange(count, dtype=np.int64)),
            "num_frames": pa.array(shapes[:, 0]),
            "num_agents": pa.array(shapes[:, 1]),
            "num_rows": pa.array(shapes[:, 0] * shapes[:, 1]),
            "file_name": pa.array([path.name] * count, pa.string()),
            "file_path": pa.array([str(path.resolve())] * count, pa.string()),
            "file_size_bytes": pa.array(np.full(count, path.stat().st_size, dtype=np.int64)),
            "file_sha256": pa.array([sha256_file(path)] * count, pa.string()),
        }
    )


def find(path: Path) -> list[DatasetFile]:
    """The dataset file at path, if it is one (`X.pt`, not a config `X_config.pt`, not model
    weights: those are skipped by the rollout family). Only a regular file is opened to tell
    weights from a dataset: anything else named so is a dataset, refused before it is read."""
    named = path.suffix == SUFFIX and not path.name.endswith(CONFIG_SUFFIX)
    if not named or path.is_dir() or (path.is_file() and is_state_dict(path)):
        return []
    return [DatasetFile(path)]


FAMILY = SourceFamily(
    name=CATEGORY,
    description="2D boids dataset file (X.pt, a torch.save AnimalTrajectoryDataset or list of "
    "samples; an X_config.pt beside it is read as its config)",
    find=find,
)
