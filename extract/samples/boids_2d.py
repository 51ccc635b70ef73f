"""Generate realistic 2D boids datasets in the real `.pt` format.

`{name}.pt` is written with torch.save the way the lab's simulator writes it: the pickle holds
an object of class `collab_env.sim.boids_gnn_temp.animal_simulation.AnimalTrajectoryDataset`
(made importable under that name only while saving) whose state is width, height, sequences,
species_to_idx and N; each sample is (positions, species) with positions a numpy float64 array
[T, N, 2] of float32 pixel positions divided by (width, height), and species a list of ints.
`{name}_config.pt` holds one parameter dict per species. Variants (see `DatasetSpec`): a plain
list of samples, tensors instead of arrays and lists, numpy 1 module paths in the pickle, and
food datasets, whose last agent is the food: it never moves, its species is `food0` (the label
after the boids' species), and the config gains the food keys, a nested `food: {x, y, counts}`
per species and the same object as a top-level `food0`, in pixels as the simulator uses them.

Motion follows the simulator's rules in pixels, vectorised over samples: cohesion, separation
and alignment within a species, soft margins, a speed limit, and attraction to food.
"""

from __future__ import annotations

import pickle
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from extract.temporary import temporarily_set

CLASS_MODULE = "collab_env.sim.boids_gnn_temp.animal_simulation"
CONTAINERS = ("dataset", "list")
PAYLOADS = ("numpy", "tensor")
NUMPY_PATHS = ("numpy2", "numpy1")
FOOD_SPECIES = "food0"
VELOCITY_SCALE = 10.0  # initial velocity components are uniform in +-VELOCITY_SCALE / 2

SPECIES_PARAMS: dict[str, float] = {
    "visual_range": 50.0,
    "centering_factor": 0.005,
    "min_distance": 15.0,
    "avoid_factor": 0.05,
    "matching_factor": 0.05,
    "margin": 40.0,
    "turn_factor": 1.0,
    "speed_limit": 8.0,
}
FOOD_PARAMS: dict[str, float | bool] = {
    "food_factor": 0.002,
    "food_visual_range": 250.0,
    "food_eating_range": 20.0,
    "food_time": 40,
    "hunger_threshold": -100,
    "independent": False,
}


class AnimalTrajectoryDataset:
    """Carries the lab class's module and name into the pickle; only its state is saved."""


AnimalTrajectoryDataset.__module__ = CLASS_MODULE


def _numpy1_reconstruct(*args: object) -> object:
    """Pickled as numpy 1's `numpy.core.multiarray._reconstruct`."""
    return np.ndarray((0,)).__reduce__()[0](*args)


_numpy1_reconstruct.__module__ = "numpy.core.multiarray"
_numpy1_reconstruct.__name__ = _numpy1_reconstruct.__qualname__ = "_reconstruct"


class _Numpy1Pickler(pickle.Pickler):
    """Pickles numpy arrays under numpy 1's module path, as files written with numpy 1 are."""

    def reducer_override(self, obj: object) -> object:
        if type(obj) is np.ndarray:
            _, args, state = obj.__reduce__()
            return _numpy1_reconstruct, args, state
        return NotImplemented


@dataclass(frozen=True)
class DatasetSpec:
    """What to generate."""

    name: str = "boids_2d"
    num_samples: int = 10
    steps: int = 50  # frames per sample (T)
    species_counts: tuple[int, ...] = (20,)  # boids of species A, B, ...
    width: int = 640
    height: int = 480
    seed: int = 0
    container: str = "dataset"  # or "list": a plain list of samples
    payload: str = "numpy"  # or "tensor": float32 position tensors, int64 species tensors
    numpy_paths: str = "numpy2"  # or "numpy1": arrays pickled as numpy 1 writes them
    food: tuple[float, float] | None = None  # food position in pixels: adds the food agent
    # False: the food point only in the species entries, no food agent (a real variant)
    food_agent: bool = True
    # the module the dataset class is pickled under ("animal_simulation": another checkout's)
    class_module: str = CLASS_MODULE
    config: bool = True  # write {name}_config.pt

    def __post_init__(self) -> None:
        """Reject specs the simulator cannot produce."""
        for name in ("num_samples", "steps", "width", "height"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if not self.species_counts or min(self.species_counts) < 1:
            raise ValueError("species_counts must hold at least one count, each >= 1")
        for name, allowed in (
            ("container", CONTAINERS),
            ("payload", PAYLOADS),
            ("numpy_paths", NUMPY_PATHS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")
        if self.food is not None and not self.config:
            raise ValueError("a food dataset needs its config (it states the food)")

    @property
    def species_names(self) -> list[str]:
        return [chr(ord("A") + i) for i in range(len(self.species_counts))]

    @property
    def has_food_agent(self) -> bool:
        return self.food is not None and self.food_agent

    @property
    def num_agents(self) -> int:
        """N: the boids, plus the food agent in a food dataset that has one."""
        return sum(self.species_counts) + self.has_food_agent


def _simulate(spec: DatasetSpec, rng: np.random.Generator) -> np.ndarray:
    """Boid positions in pixels, float32 [samples, T, boids, 2]."""
    p = SPECIES_PARAMS
    species = np.repeat(np.arange(len(spec.species_counts)), spec.species_counts)
    n, size = len(species), np.array([spec.width, spec.height], dtype=float)
    same = (species[:, None] == species[None, :]) & ~np.eye(n, dtype=bool)
    pos = rng.uniform(0.0, 1.0, (spec.num_samples, n, 2)) * size
    vel = (rng.uniform(0.0, 1.0, pos.shape) - 0.5) * VELOCITY_SCALE
    out = np.empty((spec.num_samples, spec.steps, n, 2), dtype=np.float32)
    for t in range(spec.steps):
        out[:, t] = pos
        offset = pos[:, None, :, :] - pos[:, :, None, :]  # [s, i, j]: p_j - p_i
        dist = np.linalg.norm(offset, axis=3)
        near = (dist < p["visual_range"]) & same
        count = np.maximum(near.sum(axis=2), 1)[..., None]
        has = near.any(axis=2)[..., None]
        centre = np.einsum("sij,sjk->sik", near, pos) / count
        vel += np.where(has, (centre - pos) * p["centering_factor"], 0.0)
        close = (dist < p["min_distance"]) & same
        vel -= np.einsum("sij,sijk->sik", close, offset) * p["avoid_factor"]
        mean_vel = np.einsum("sij,sjk->sik", near, vel) / count
        vel += np.where(has, (mean_vel - vel) * p["matching_factor"], 0.0)
        if spec.food is not None:
            to_food = np.array(spec.food) - pos
            seen = np.linalg.norm(to_food, axis=2, keepdims=True) < FOOD_PARAMS["food_visual_range"]
            vel += np.where(seen, to_food * FOOD_PARAMS["food_factor"], 0.0)
        vel += p["turn_factor"] * ((pos < p["margin"]).astype(float) - (pos > size - p["margin"]))
        speed = np.linalg.norm(vel, axis=2, keepdims=True)
        vel *= np.minimum(1.0, p["speed_limit"] / np.maximum(speed, 1e-12))
        pos = pos + vel
    return out


def species_config(spec: DatasetSpec) -> dict[str, dict]:
    """The `{name}_config.pt` dict: one entry per species, plus `food0` in a food dataset."""
    food = None
    if spec.food is not None:
        food = {"x": float(spec.food[0]), "y": float(spec.food[1]), "counts": 1}
    config: dict[str, dict] = {}
    for name, count in zip(spec.species_names, spec.species_counts, strict=True):
        entry: dict[str, object] = {**SPECIES_PARAMS, "counts": count}
        if food is not None:
            entry |= {**FOOD_PARAMS, "width": spec.width, "height": spec.height, "food": food}
        config[name] = entry
    if food is not None and spec.food_agent:
        config[FOOD_SPECIES] = food  # the same object as the nested entries, as in real files
    return config


def samples(spec: DatasetSpec) -> tuple[list[tuple], dict[str, int]]:
    """(samples, species_to_idx) of a spec: each sample (positions, species) as the simulator
    stores it, and as `write_dataset` saves it."""
    pixels = _simulate(spec, np.random.default_rng(spec.seed))
    names = spec.species_names + ([FOOD_SPECIES] if spec.has_food_agent else [])
    species_to_idx = {name: i for i, name in enumerate(names)}
    labels = np.repeat(np.arange(len(spec.species_counts)), spec.species_counts).tolist()
    if spec.has_food_agent:
        food = np.broadcast_to(np.array(spec.food, dtype=np.float32), (*pixels.shape[:2], 1, 2))
        pixels = np.concatenate([pixels, food], axis=2)
        labels.append(species_to_idx[FOOD_SPECIES])
    positions = pixels / np.array([spec.width, spec.height])  # float32 / ints -> float64
    if spec.payload == "tensor":
        species = torch.tensor(labels, dtype=torch.long)
        pairs = [(torch.tensor(p, dtype=torch.float32), species.clone()) for p in positions]
    else:
        pairs = [(p.copy(), list(labels)) for p in positions]
    return pairs, species_to_idx


def _class_modules(class_module: str) -> dict[str, types.ModuleType]:
    """The lab's module path, holding the dataset class, and its parent packages."""
    parts = class_module.split(".")
    modules = {
        ".".join(parts[:i]): types.ModuleType(".".join(parts[:i])) for i in range(1, len(parts) + 1)
    }
    modules[class_module].AnimalTrajectoryDataset = AnimalTrajectoryDataset  # type: ignore[attr-defined]
    return modules


def save_pt(
    obj: object, path: Path, numpy_paths: str = "numpy2", class_module: str = CLASS_MODULE
) -> None:
    """torch.save obj as the lab's files are saved: the dataset class under its original
    path (or class_module), numpy arrays under numpy 1's or numpy 2's module path."""
    modules = _class_modules(class_module)
    pickle_module: object = pickle
    if numpy_paths == "numpy1":
        numpy1 = types.ModuleType("numpy.core.multiarray")
        numpy1._reconstruct = _numpy1_reconstruct  # type: ignore[attr-defined]
        modules["numpy.core.multiarray"] = numpy1
        pickle_module = types.ModuleType("numpy1_pickle")
        pickle_module.Pickler = _Numpy1Pickler  # type: ignore[attr-defined]
    AnimalTrajectoryDataset.__module__ = class_module
    try:
        with temporarily_set(sys.modules, modules):
            torch.save(obj, path, pickle_module=pickle_module)
    finally:
        AnimalTrajectoryDataset.__module__ = CLASS_MODULE


def write_dataset(parent: Path, spec: DatasetSpec) -> Path:
    """Write `{name}.pt` (and `{name}_config.pt`) under parent; return the dataset's path."""
    folder = Path(parent)
    folder.mkdir(parents=True, exist_ok=True)
    sequences, species_to_idx = samples(spec)
    if spec.container == "list":
        content: object = sequences
    else:
        dataset = AnimalTrajectoryDataset()
        dataset.__dict__.update(
            width=spec.width,
            height=spec.height,
            sequences=sequences,
            species_to_idx=species_to_idx,
            N=spec.num_agents,
        )
        content = dataset
    path = folder / f"{spec.name}.pt"
    save_pt(content, path, spec.numpy_paths, spec.class_module)
    if spec.config:
        save_pt(species_config(spec), folder / f"{spec.name}_config.pt")
    return path
