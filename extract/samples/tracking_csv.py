"""Generate realistic real-world tracking session folders in the lab's CSV format.

A session folder ``YYYY_MM_DD-session_NNNN`` holds ``Metadata.yaml`` (notes, data_sources,
optionally a frame rate) and one sub-folder per camera with one CSV per camera and shape:
``*_bboxes.csv`` (detector boxes with confidence and class), ``*_tracks.csv`` (integer pixel
centroids) or ``*_centroids_3d.csv`` (world coordinates in metres, plus two extra columns).
Animals wander an arena on a correlated random walk (birds also change height); every camera
sees them through its own scale and offset. The tracker misses single frames, loses animals
behind occlusions, gives a new id after a long loss or, sometimes, the old id again (a
restart), so track ids have gaps, end and restart as in real files.

CLI: ``python -m extract.samples.tracking_csv OUT_DIR --frames 150 --animals 5``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from extract.samples import cli

SHAPES = ("bboxes", "tracks", "centroids_3d")
ARENA = np.array([4.0, 3.0])  # metres
BOX_SIZES = {"bird": (42.0, 30.0), "rat": (55.0, 24.0), "gerbil": (32.0, 20.0)}  # pixels
UNKNOWN_BOX = (45.0, 35.0)
MISS_RATE = 0.03  # single frames the detector misses
OCCLUSIONS = 2  # per animal and camera
SHORT_GAP = 3  # frames the tracker bridges keeping the id
RESTART_PROBABILITY = 0.5  # after a longer loss: the old id again rather than a new one


@dataclass(frozen=True)
class SessionSpec:
    """What to generate."""

    date: str = "2025_06_03"  # YYYY_MM_DD of the folder name
    number: int = 1  # NNNN of the folder name
    # (camera sub-folder, shape); a camera may appear with several shapes
    cameras: tuple[tuple[str, str], ...] = (
        ("rgb_cam_1", "bboxes"),
        ("thermal_1", "tracks"),
        ("stereo_1", "centroids_3d"),
    )
    num_animals: int = 5
    num_frames: int = 150
    # class labels, cycled over the animals; labels other than bird/rat/gerbil are unknown
    classes: tuple[str, ...] = ("bird", "rat", "gerbil", "bird", "squirrel")
    frame_rate: float | None = None  # stated in Metadata.yaml when set
    metadata: bool = True  # write Metadata.yaml
    extra_files: bool = True  # a README and camera videos, which the loader ignores
    width: int = 640
    height: int = 480
    seed: int = 0

    def __post_init__(self) -> None:
        """Reject specs the lab's pipeline cannot produce."""
        if self.num_animals < 1 or self.num_frames < 2:
            raise ValueError("need at least one animal and two frames")
        if not self.cameras or any(shape not in SHAPES for _, shape in self.cameras):
            raise ValueError(f"cameras need a shape among {SHAPES}")
        if not self.classes:
            raise ValueError("classes must not be empty")

    @property
    def folder_name(self) -> str:
        return f"{self.date}-session_{self.number:04d}"

    def animal_classes(self) -> list[str]:
        return [self.classes[i % len(self.classes)] for i in range(self.num_animals)]


def _fold(values: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Reflect coordinates into [0, size] (walls bounce)."""
    wrapped = np.mod(values, 2 * size)
    return np.where(wrapped > size, 2 * size - wrapped, wrapped)


def _world_paths(spec: SessionSpec, rng: np.random.Generator) -> np.ndarray:
    """Positions in metres, shape (frames, animals, 3); z is height (birds fly)."""
    frames, animals = spec.num_frames, spec.num_animals
    heading = rng.uniform(0, 2 * np.pi, animals) + np.cumsum(
        rng.normal(0.0, 0.15, (frames, animals)), axis=0
    )
    speed = rng.uniform(0.01, 0.04, animals)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=-1) * speed[None, :, None]
    start = rng.uniform(0.2, 0.8, (animals, 2)) * ARENA
    ground = _fold(start + np.cumsum(steps, axis=0), ARENA)
    flies = np.array([c == "bird" for c in spec.animal_classes()])
    phase = rng.uniform(0, 2 * np.pi, animals)
    t = np.arange(frames)[:, None]
    height = np.where(flies, 0.8 + 0.5 * np.sin(t / 15.0 + phase), 0.03)
    return np.concatenate([ground, height[..., None]], axis=-1)


def _visible(spec: SessionSpec, rng: np.random.Generator) -> np.ndarray:
    """Which animals the detector sees per frame, shape (frames, animals)."""
    seen = rng.random((spec.num_frames, spec.num_animals)) > MISS_RATE
    for animal in range(spec.num_animals):
        for _ in range(OCCLUSIONS):
            start = rng.integers(0, spec.num_frames)
            seen[start : start + rng.integers(4, 16), animal] = False
    return seen


def _track_ids(seen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tracker ids per (frame, animal), -1 where unseen: an id survives short gaps; after a
    longer loss the animal gets a new id or, sometimes, its old one again (a restart)."""
    ids = np.full(seen.shape, -1)
    next_id = 1
    for animal in range(seen.shape[1]):
        frames = np.flatnonzero(seen[:, animal])
        if frames.size == 0:
            continue
        segments = np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1)
        current = next_id
        next_id += 1
        for i, segment in enumerate(segments):
            gap = segment[0] - segments[i - 1][-1] - 1 if i else 0
            if gap > SHORT_GAP and rng.random() > RESTART_PROBABILITY:
                current = next_id
                next_id += 1
            ids[segment, animal] = current
    return ids


def _pixels(spec: SessionSpec, world: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The camera's view of the arena floor in pixels, shape (frames, animals, 2)."""
    image = np.array([spec.width, spec.height], dtype=float)
    scale = rng.uniform(0.8, 0.95) * image / ARENA
    offset = rng.uniform(0.02, 0.05) * image
    noise = rng.normal(0.0, 0.6, world[..., :2].shape)
    return np.clip(world[..., :2] * scale + offset + noise, 0.0, image)


def _rows(spec: SessionSpec, shape: str, world: np.ndarray, seed: int) -> pd.DataFrame:
    """One camera's CSV rows, ordered by frame then track id."""
    rng = np.random.default_rng(seed)
    ids = _track_ids(_visible(spec, rng), rng)
    frame, animal = np.nonzero(ids >= 0)
    order = np.lexsort((ids[frame, animal], frame))
    frame, animal = frame[order], animal[order]
    columns: dict[str, object] = {"track_id": ids[frame, animal], "frame": frame}
    if shape == "centroids_3d":
        point = world[frame, animal] + rng.normal(0.0, 0.005, (frame.size, 3))
        columns |= {axis: np.round(point[:, i], 4) for i, axis in enumerate("xyz")}
        columns["reprojection_error"] = np.round(rng.gamma(2.0, 0.4, frame.size), 3)
        columns["num_cameras"] = rng.integers(2, 5, frame.size)
        return pd.DataFrame(columns)
    centre = _pixels(spec, world, rng)[frame, animal]
    if shape == "tracks":
        columns |= {"x": np.rint(centre[:, 0]).astype(int), "y": np.rint(centre[:, 1]).astype(int)}
        return pd.DataFrame(columns)
    labels = np.array(spec.animal_classes())[animal]
    size = np.array([BOX_SIZES.get(c, UNKNOWN_BOX) for c in spec.animal_classes()])[animal]
    half = size * rng.uniform(0.85, 1.15, size.shape) / 2
    image = np.array([spec.width, spec.height], dtype=float)
    low = np.round(np.clip(centre - half, 0.0, image), 1)
    high = np.round(np.clip(centre + half, 0.0, image), 1)
    columns |= {"x1": low[:, 0], "y1": low[:, 1], "x2": high[:, 0], "y2": high[:, 1]}
    columns["confidence"] = np.round(rng.beta(8.0, 2.0, frame.size), 3)
    columns["class"] = labels
    return pd.DataFrame(columns)


def _metadata(spec: SessionSpec) -> dict[str, object]:
    sources = [
        {
            "description": f"{camera} video ({shape})",
            "original_path": f"/mnt/fieldwork/{spec.date}/{camera}/GX0100{i:02d}.MP4",
            "path": f"{camera}/{camera}.mp4",
        }
        for i, (camera, shape) in enumerate(spec.cameras)
    ]
    metadata: dict[str, object] = {
        "notes": f"Arena session {spec.number}: {spec.num_animals} animals, "
        f"{', '.join(sorted(set(spec.classes)))}. Overcast, light wind.",
        "data_sources": sources,
    }
    if spec.frame_rate is not None:
        metadata["frame_rate"] = spec.frame_rate
    return metadata


def write_session_folder(parent: Path, spec: SessionSpec) -> Path:
    """Write one session folder under parent and return its path."""
    folder = parent / spec.folder_name
    folder.mkdir(parents=True, exist_ok=True)
    world = _world_paths(spec, np.random.default_rng(spec.seed))
    for i, (camera, shape) in enumerate(spec.cameras):
        (folder / camera).mkdir(exist_ok=True)
        table = _rows(spec, shape, world, spec.seed + 1 + i)
        table.to_csv(folder / camera / f"{camera}_{shape}.csv", index=False)
        if spec.extra_files:
            (folder / camera / f"{camera}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    if spec.metadata:
        text = yaml.safe_dump(_metadata(spec), sort_keys=False)
        (folder / "Metadata.yaml").write_text(text, encoding="utf-8")
    if spec.extra_files:
        (folder / "README.txt").write_text("Field session exported by the tracking pipeline.\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    """Write one session folder and print its path."""
    d = SessionSpec()
    options = cli.parser(
        "python -m extract.samples.tracking_csv",
        "Write a synthetic tracking session folder in the lab's CSV format.",
        "parent directory of the session folder",
    )
    add = options.add_argument
    add("--date", default=d.date, help="session date YYYY_MM_DD")
    add("--number", type=int, default=d.number, help="session number")
    add("--frames", dest="num_frames", type=int, default=d.num_frames, help="frames per camera")
    add("--animals", dest="num_animals", type=int, default=d.num_animals, help="number of animals")
    add("--frame-rate", type=float, help="frame rate stated in Metadata.yaml")
    add("--seed", type=int, default=d.seed, help="random seed")
    add("--no-metadata", dest="metadata", action="store_false", help="write no Metadata.yaml")
    return cli.generate(options, argv, SessionSpec, write_session_folder)


if __name__ == "__main__":
    raise SystemExit(main())
