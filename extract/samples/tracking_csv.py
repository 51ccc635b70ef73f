"""Generate realistic real-world tracking session folders, as the lab's tracking pipeline writes
them (../shared/SOURCES.md, section 3) or in the older flat layout.

Pipeline layout (the default): ``aligned_frames/thermal_N/`` holds the tracker's
``thermal_N_tracks.csv`` (track ids written as floats, rows grouped by track), the detector's
``detections_N.csv`` and a video; ``aligned_frames/rgb_N/`` the thermal detections carried over
to the RGB view, saved twice with the same bytes (``tracked_bboxes_N.csv`` and
``rgb_N_tracked_bboxes.csv``, class ``0`` of the bird detector), the boxes with masks, the 3D
centroids of the long tracks (written with the pandas index, the world point empty where the
ray misses the scene mesh) and a video. Further thermal cameras whose tracker found nothing
hold a tracks file with only its header. ``metadata.yaml`` is spelled in lower case.

Flat layout: ``Metadata.yaml`` and one folder per camera directly in the session, with one CSV
per camera and shape: ``*_bboxes.csv`` (boxes with confidence and a class word),
``*_tracks.csv`` (integer pixel centroids) or ``*_centroids_3d.csv`` (world coordinates in
metres, plus two extra columns).

Animals wander an arena on a correlated random walk (birds also change height); every camera
sees them through its own scale and offset. The tracker misses single frames, loses animals
behind occlusions, gives a new id after a long loss or, sometimes, the old id again (a
restart), so track ids have gaps, end and restart as in real files.

CLI: ``python -m extract.samples.tracking_csv OUT_DIR --frames 150 --animals 5``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from extract.samples import cli

SHAPES = ("bboxes", "tracks", "centroids_3d")
LAYOUTS = ("pipeline", "flat")
ARENA = np.array([4.0, 3.0])  # metres
BOX_SIZES = {"bird": (42.0, 30.0), "rat": (55.0, 24.0), "gerbil": (32.0, 20.0)}  # pixels
UNKNOWN_BOX = (45.0, 35.0)
MISS_RATE = 0.03  # single frames the detector misses
OCCLUSIONS = 2  # per animal and camera
SHORT_GAP = 3  # frames the tracker bridges keeping the id
RESTART_PROBABILITY = 0.5  # after a longer loss: the old id again rather than a new one
DETECTOR_CLASS = "0"  # the lab's bird detector's one class
LONG_TRACK = 10  # frames: the 3D step keeps the tracks at least this long
MESH_MISS_RATE = 0.1  # 3D rows whose ray misses the scene mesh (no world point)
VIDEO_STUB = b"\x00\x00\x00\x18ftypmp42"


@dataclass(frozen=True)
class SessionSpec:
    """What to generate."""

    date: str = "2025_06_03"  # YYYY_MM_DD of the folder name
    number: int = 1  # NNNN of the folder name
    # "pipeline": aligned_frames/thermal_N, rgb_N as the lab's pipeline writes them; "flat":
    # the cameras below directly in the session folder
    layout: str = "pipeline"
    # pipeline: camera pairs thermal_N / rgb_N with tracks, and further thermal cameras whose
    # tracker found nothing
    camera_pairs: int = 1
    empty_cameras: int = 1
    # flat: (camera sub-folder, shape); a camera may appear with several shapes
    cameras: tuple[tuple[str, str], ...] = (
        ("rgb_cam_1", "bboxes"),
        ("thermal_1", "tracks"),
        ("stereo_1", "centroids_3d"),
    )
    num_animals: int = 5
    num_frames: int = 150
    # flat: class labels, cycled over the animals; labels other than bird/rat/gerbil map to no
    # agent type (pipeline files hold the detector's class id 0)
    classes: tuple[str, ...] = ("bird", "rat", "gerbil", "bird", "squirrel")
    frame_rate: float | None = None  # stated in the metadata file when set
    metadata: bool = True  # write the metadata file (pipeline: metadata.yaml)
    extra_files: bool = True  # videos, detector output, masks, a README: listed as skipped
    width: int = 640
    height: int = 480
    seed: int = 0

    def __post_init__(self) -> None:
        """Reject specs the lab's pipeline cannot produce."""
        if self.num_animals < 1 or self.num_frames < 2:
            raise ValueError("need at least one animal and two frames")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        if not self.cameras or any(shape not in SHAPES for _, shape in self.cameras):
            raise ValueError(f"cameras need a shape among {SHAPES}")
        if not self.classes:
            raise ValueError("classes must not be empty")

    @property
    def folder_name(self) -> str:
        return f"{self.date}-session_{self.number:04d}"

    def animal_classes(self) -> list[str]:
        if self.layout == "pipeline":
            return ["bird"] * self.num_animals
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


def _detections(spec: SessionSpec, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(frame, animal, track id) of every tracked detection, ordered by frame then track id."""
    ids = _track_ids(_visible(spec, rng), rng)
    frame, animal = np.nonzero(ids >= 0)
    order = np.lexsort((ids[frame, animal], frame))
    frame, animal = frame[order], animal[order]
    return frame, animal, ids[frame, animal]


def _boxes(
    spec: SessionSpec, centre: np.ndarray, animal: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Box corners around the centres (pixels, sized by class) and the detector's confidence."""
    size = np.array([BOX_SIZES.get(c, UNKNOWN_BOX) for c in spec.animal_classes()])[animal]
    half = size * rng.uniform(0.85, 1.15, size.shape) / 2
    image = np.array([spec.width, spec.height], dtype=float)
    low = np.round(np.clip(centre - half, 0.0, image), 1)
    high = np.round(np.clip(centre + half, 0.0, image), 1)
    return {
        "x1": low[:, 0],
        "y1": low[:, 1],
        "x2": high[:, 0],
        "y2": high[:, 1],
        "confidence": np.round(rng.beta(8.0, 2.0, animal.size), 3),
    }


def _world_point(world: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """World coordinates (metres) of 3D centroids, with the reconstruction's noise."""
    point = world + rng.normal(0.0, 0.005, world.shape)
    return {axis: np.round(point[:, i], 4) for i, axis in enumerate("xyz")}


def _pixel_centroids(track: np.ndarray, frame: np.ndarray, centre: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "track_id": track,
            "frame": frame,
            "x": np.rint(centre[:, 0]).astype(int),
            "y": np.rint(centre[:, 1]).astype(int),
        }
    )


def _rows(spec: SessionSpec, shape: str, world: np.ndarray, seed: int) -> pd.DataFrame:
    """One flat-layout camera's CSV rows, ordered by frame then track id."""
    rng = np.random.default_rng(seed)
    frame, animal, track = _detections(spec, rng)
    if shape == "centroids_3d":
        columns = {"track_id": track, "frame": frame, **_world_point(world[frame, animal], rng)}
        columns["reprojection_error"] = np.round(rng.gamma(2.0, 0.4, frame.size), 3)
        columns["num_cameras"] = rng.integers(2, 5, frame.size)
        return pd.DataFrame(columns)
    centre = _pixels(spec, world, rng)[frame, animal]
    if shape == "tracks":
        return _pixel_centroids(track, frame, centre)
    labels = np.array(spec.animal_classes())[animal]
    boxes = _boxes(spec, centre, animal, rng)
    return pd.DataFrame({"track_id": track, "frame": frame, **boxes, "class": labels})


def _centroids_3d(
    boxes: pd.DataFrame, world: np.ndarray, view: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The 3D step's rows for the long tracks of the RGB boxes (keeping the boxes' pandas
    index): image point u, v and world point x, y, z, empty where the ray misses the mesh."""
    table = boxes.assign(
        u=np.round(view[:, 0], 1), v=np.round(view[:, 1], 1), **_world_point(world, rng)
    )
    missed = rng.random(len(table)) < MESH_MISS_RATE
    table.loc[missed, ["x", "y", "z"]] = np.nan
    length = table.groupby("track_id").frame.transform("size")
    return table[length >= LONG_TRACK]


def _detector_output(
    spec: SessionSpec, frame: np.ndarray, centre: np.ndarray, camera: str
) -> pd.DataFrame:
    """The detector's raw output, one row per frame with its predictions as JSON."""
    rows = []
    for f in range(spec.num_frames):
        points = centre[frame == f]
        predictions = [
            {"x": round(x, 1), "y": round(y, 1), "class": DETECTOR_CLASS} for x, y in points
        ]
        rows.append((len(points), f"{camera}/frame_{f:06d}.jpg", json.dumps(predictions)))
    return pd.DataFrame(rows, columns=["count_objects", "output_image", "predictions"])


def _write_camera_pair(aligned: Path, spec: SessionSpec, world: np.ndarray, n: int) -> None:
    """thermal_N (the tracker's output) and rgb_N (its detections carried over to the RGB
    view, saved under two names, and their 3D centroids) of the pipeline layout."""
    thermal, rgb = aligned / f"thermal_{n}", aligned / f"rgb_{n}"
    thermal.mkdir(parents=True, exist_ok=True)
    rgb.mkdir(exist_ok=True)
    rng = np.random.default_rng(spec.seed + n)
    frame, animal, track = _detections(spec, rng)
    centre = _pixels(spec, world, rng)[frame, animal]
    tracks = _pixel_centroids(track.astype(float), frame, centre)  # written by hand: 1.0
    tracks = tracks.sort_values(["track_id", "frame"], kind="stable")  # grouped by track
    tracks.to_csv(thermal / f"thermal_{n}_tracks.csv", index=False)
    view = _pixels(spec, world, rng)[frame, animal]
    boxes = pd.DataFrame(
        {"track_id": track, "frame": frame, **_boxes(spec, view, animal, rng)}
    ).assign(**{"class": DETECTOR_CLASS})
    text = boxes.to_csv(index=False)
    for name in (f"tracked_bboxes_{n}.csv", f"rgb_{n}_tracked_bboxes.csv"):
        (rgb / name).write_text(text)
    centroids = _centroids_3d(boxes, world[frame, animal], view, rng)
    centroids.to_csv(rgb / f"rgb_{n}_tracked_centroids_3d.csv")  # with the pandas index
    if spec.extra_files:
        _detector_output(spec, frame, centre, thermal.name).to_csv(
            thermal / f"detections_{n}.csv", index=False
        )
        masks = boxes[["track_id", "frame", "x1", "y1", "x2", "y2"]].assign(
            mask=[
                f"[[{a}, {b}], [{c}, {b}], [{c}, {d}], [{a}, {d}]]"
                for a, b, c, d in boxes[["x1", "y1", "x2", "y2"]].itertuples(index=False)
            ]
        )
        masks.to_csv(rgb / f"tracked_bboxes_{n}_with_masks.csv", index=False)
        for camera in (thermal, rgb):
            (camera / f"{camera.name}.mp4").write_bytes(VIDEO_STUB)


def _write_pipeline(folder: Path, spec: SessionSpec, world: np.ndarray) -> list[str]:
    """The pipeline layout's camera folders; their names."""
    aligned = folder / "aligned_frames"
    for n in range(1, spec.camera_pairs + 1):
        _write_camera_pair(aligned, spec, world, n)
    for n in range(spec.camera_pairs + 1, spec.camera_pairs + spec.empty_cameras + 1):
        camera = aligned / f"thermal_{n}"
        camera.mkdir(parents=True, exist_ok=True)
        (camera / f"thermal_{n}_tracks.csv").write_text("track_id,frame,x,y\n")  # found nothing
        if spec.extra_files:
            (camera / f"thermal_{n}.mp4").write_bytes(VIDEO_STUB)
    return sorted(p.name for p in aligned.iterdir())


def _write_flat(folder: Path, spec: SessionSpec, world: np.ndarray) -> list[str]:
    """The flat layout's camera folders; their names."""
    for i, (camera, shape) in enumerate(spec.cameras):
        (folder / camera).mkdir(exist_ok=True)
        table = _rows(spec, shape, world, spec.seed + 1 + i)
        table.to_csv(folder / camera / f"{camera}_{shape}.csv", index=False)
        if spec.extra_files:
            (folder / camera / f"{camera}.mp4").write_bytes(VIDEO_STUB)
    if spec.extra_files:
        (folder / "README.txt").write_text("Field session exported by the tracking pipeline.\n")
    return list(dict.fromkeys(camera for camera, _ in spec.cameras))


def _metadata(spec: SessionSpec, cameras: list[str]) -> dict[str, object]:
    sources = [
        {
            "description": f"{camera} video",
            "original_path": f"/mnt/fieldwork/{spec.date}/{camera}/GX0100{i:02d}.MP4",
            "path": f"{camera}/{camera}.mp4",
        }
        for i, camera in enumerate(cameras)
    ]
    kinds = ", ".join(sorted(set(spec.animal_classes())))
    metadata: dict[str, object] = {
        "notes": f"Arena session {spec.number}: {spec.num_animals} animals, {kinds}. "
        "Overcast, light wind.",
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
    pipeline = spec.layout == "pipeline"
    cameras = (_write_pipeline if pipeline else _write_flat)(folder, spec, world)
    if spec.metadata:
        text = yaml.safe_dump(_metadata(spec, cameras), sort_keys=False)
        name = "metadata.yaml" if pipeline else "Metadata.yaml"
        (folder / name).write_text(text, encoding="utf-8")
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
    add("--layout", choices=LAYOUTS, default=d.layout, help="the pipeline's layout, or flat")
    add("--frame-rate", type=float, help="frame rate stated in the metadata file")
    add("--seed", type=int, default=d.seed, help="random seed")
    add("--no-metadata", dest="metadata", action="store_false", help="write no metadata file")
    return cli.generate(options, argv, SessionSpec, write_session_folder)


if __name__ == "__main__":
    raise SystemExit(main())
