"""3D boids simulation runs.

A run folder `{prefix}-started-{YYYYMMDD-HHMMSS}` holding `config.yaml` and
`episode-{N}-completed-{YYYYMMDD-HHMMSS}.parquet` files is one session; each parquet file is one
episode with one row per entity per frame. Lands three raw tables:

- `boids_3d_sessions`: one row per run folder, the config as JSON text;
- `boids_3d_episodes`: one row per parquet file (number, file fingerprint);
- `boids_3d_frames`: the parquet rows, lists flattened into x/y/z columns, one set of target
  columns per target k, tagged with `episode_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extract.arrow_checks import float_column, integer_column, point_columns, require_columns
from extract.config_files import frame_rate, json_text, read_yaml_mapping
from extract.errors import InputFileError
from extract.fingerprint import sha256_file
from extract.ids import stable_id
from extract.path_safety import present
from extract.sources import EpisodeRows, Skipped, SourceFamily

CATEGORY = "boids_3d"
CONFIG_FILE = "config.yaml"
RUN_FOLDER_RE = re.compile(r"^(?P<prefix>.+)-started-(?P<started>\d{8}-\d{6})$")
EPISODE_FILE_RE = re.compile(
    r"^episode-(?P<number>\d+)-completed-(?P<completed>\d{8}-\d{6})\.parquet$"
)
TARGET_CENTER_RE = re.compile(r"^distance(?:_to)?_target_center_(?P<k>\d+)$")
TARGET_MESH_RE = re.compile(r"^distance_to_target_mesh_closest_point_(?P<k>\d+)$")
TARGET_POINT_RE = re.compile(r"^target_mesh_closest_point_(?P<k>\d+)$")
ENTITY_TYPES = ("agent", "env")


@dataclass(frozen=True)
class RunFolder:
    """A run folder and its episode files, sorted by episode number."""

    path: Path
    episodes: tuple[tuple[int, Path], ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def session_id(self) -> int:
        return stable_id(CATEGORY, self.path.name)

    def episode_id(self, number: int) -> int:
        return stable_id(CATEGORY, self.path.name, str(number))

    @property
    def episode_files(self) -> list[Path]:
        return [path for _, path in self.episodes]

    @property
    def session_files(self) -> list[Path]:
        return [self.path / CONFIG_FILE]

    def inputs_of(self, file: Path) -> list[Path]:
        """Only the file itself: the session's own config is re-landed on every run."""
        return [file]

    def session_table(self) -> pa.Table:
        return session_table(self)

    def read_episode(self, file: Path) -> EpisodeRows:
        """The `boids_3d_frames` and `boids_3d_episodes` rows of one episode file."""
        number = next(n for n, path in self.episodes if path == file)
        frames = frames_table(file, self.episode_id(number))
        return EpisodeRows(frames, episode_table(self, number, file, frames))


def is_run_folder(path: Path) -> bool:
    """A folder with a config.yaml and at least one episode parquet file (by their names:
    what they are is checked before they are read, extract/path_safety.py)."""
    return (
        path.is_dir()
        and present(path / CONFIG_FILE)
        and any(EPISODE_FILE_RE.match(p.name) for p in path.iterdir())
    )


def scan_run_folder(path: Path) -> RunFolder:
    """List the episode files of a run folder; other files beside them are ignored."""
    numbered: dict[int, Path] = {}
    for file in sorted(path.iterdir()):
        match = EPISODE_FILE_RE.match(file.name)
        if not match:
            continue
        number = int(match["number"])
        if number in numbered:
            raise InputFileError(
                file,
                f"episode {number} also stored in {numbered[number].name}",
                "keep one file per episode number in a run folder",
            )
        numbered[number] = file
    return RunFolder(path, tuple(sorted(numbered.items())))


def _timestamp(stamp: str | None) -> str | None:
    if stamp is None:
        return None
    try:
        return datetime.strptime(stamp, "%Y%m%d-%H%M%S").isoformat(sep=" ")
    except ValueError:
        return None


def read_config(folder: Path) -> dict:
    """The run's config.yaml as a mapping."""
    return read_yaml_mapping(
        folder / CONFIG_FILE, "a mapping of sections", "fix or regenerate the config"
    )


def session_table(run: RunFolder) -> pa.Table:
    """The one-row `boids_3d_sessions` table of a run folder."""
    config = read_config(run.path)
    name_match = RUN_FOLDER_RE.match(run.path.name)
    return pa.table(
        {
            "session_id": pa.array([run.session_id], pa.int64()),
            "session_name": [run.path.name],
            "source_path": [str(run.path.resolve())],
            "run_prefix": [name_match["prefix"] if name_match else None],
            "started_at": pa.array(
                [_timestamp(name_match["started"] if name_match else None)], pa.string()
            ),
            "config_json": [json_text(config)],
            "config_frame_rate": pa.array(
                [frame_rate(config, run.path / CONFIG_FILE)], pa.float64()
            ),
            "num_episode_files": pa.array([len(run.episodes)], pa.int64()),
        }
    )


def _target_numbers(path: Path, names: list[str]) -> list[int]:
    numbers: set[int] = set()
    centers: dict[int, str] = {}
    for name in names:
        for pattern in (TARGET_CENTER_RE, TARGET_MESH_RE, TARGET_POINT_RE):
            match = pattern.match(name)
            if match:
                k = int(match["k"])
                numbers.add(k)
                if pattern is TARGET_CENTER_RE:
                    if k in centers:
                        raise InputFileError(
                            path,
                            f"target {k} has two centre-distance columns: {centers[k]}, {name}",
                        )
                    centers[k] = name
    if 0 in numbers:
        raise InputFileError(path, "target numbers start at 1; found a column for target 0")
    return sorted(numbers)


def _check_keys(path: Path, ids: pa.Array, types: pa.Array, times: pa.Array) -> None:
    unknown = pc.invert(pc.is_in(types, pa.array(ENTITY_TYPES)))
    if pc.any(unknown).as_py():
        row = int(np.flatnonzero(unknown.to_numpy(zero_copy_only=False))[0])
        raise InputFileError(
            path,
            f"column 'type' holds {types[row].as_py()!r} at row {row}; expected one of "
            f"{', '.join(ENTITY_TYPES)}",
        )
    if len(ids) and (pc.max(ids).as_py() >= 2**31 or pc.max(times).as_py() >= 2**31):
        raise InputFileError(path, "ids and frames must be below 2^31")
    key = (
        times.to_numpy().astype(np.int64) << 32
        | ids.to_numpy().astype(np.int64) << 1
        | pc.equal(types, "env").to_numpy(zero_copy_only=False).astype(np.int64)
    )
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(key[order][1:] == key[order][:-1])
    if dup.size:
        row = int(order[dup[0] + 1])
        raise InputFileError(
            path,
            f"duplicate entity at row {row}: time {times[row].as_py()}, id {ids[row].as_py()}, "
            f"type {types[row].as_py()!r} appears twice",
            "each (time, id, type) must occur once per episode",
        )


def frames_table(path: Path, episode_id: int) -> pa.Table:
    """Read, check and flatten one episode parquet file into `boids_3d_frames` rows."""
    try:
        source = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(
            path, f"not a readable parquet file ({exc})", "re-copy the file; it may be truncated"
        ) from exc
    if source.num_rows == 0:
        raise InputFileError(path, "the file holds no rows")
    require_columns(path, source, ["id", "type", "time", "x", "y", "z"])
    ids = integer_column(path, source, "id", allow_negative=False)
    times = integer_column(path, source, "time", allow_negative=False)
    types = source.column("type")
    if not (pa.types.is_string(types.type) or pa.types.is_large_string(types.type)):
        raise InputFileError(path, f"column 'type' must be text, found type {types.type}")
    types = types.cast(pa.string()).combine_chunks()
    _check_keys(path, ids, types, times)

    columns: dict[str, pa.Array] = {
        "episode_id": pa.array(np.full(source.num_rows, episode_id, dtype=np.int64)),
        "id": ids,
        "type": types,
        "time": times,
    }
    for axis in ("x", "y", "z"):
        columns[axis] = float_column(path, source, axis, required=True)
    empty = pa.nulls(source.num_rows, pa.float64())
    for axis in ("v_x", "v_y", "v_z"):
        has = axis in source.column_names
        columns[axis] = float_column(path, source, axis, required=False) if has else empty

    def scalar(name: str, *aliases: str) -> pa.Array:
        for candidate in (name, *aliases):
            if candidate in source.column_names:
                return float_column(path, source, candidate, required=False)
        return empty

    def point(name: str, out: str) -> None:
        parts = point_columns(path, source, name) if name in source.column_names else [empty] * 3
        for axis, part in zip("xyz", parts, strict=True):
            columns[f"{out}_{axis}"] = part

    for k in _target_numbers(path, source.column_names):
        columns[f"distance_target_center_{k}"] = scalar(
            f"distance_target_center_{k}", f"distance_to_target_center_{k}"
        )
        columns[f"distance_target_mesh_{k}"] = scalar(f"distance_to_target_mesh_closest_point_{k}")
        point(f"target_mesh_closest_point_{k}", f"target_mesh_closest_point_{k}")
    columns["mesh_scene_distance"] = scalar("mesh_scene_distance")
    point("mesh_scene_closest_point", "mesh_scene_closest_point")
    return pa.table(columns)


def episode_table(run: RunFolder, number: int, path: Path, frames: pa.Table) -> pa.Table:
    """The one-row `boids_3d_episodes` table of an episode file."""
    match = EPISODE_FILE_RE.match(path.name)
    targets = _target_numbers(path, frames.column_names)
    return pa.table(
        {
            "episode_id": pa.array([run.episode_id(number)], pa.int64()),
            "session_id": pa.array([run.session_id], pa.int64()),
            "episode_number": pa.array([number], pa.int64()),
            "file_name": [path.name],
            "file_path": [str(path.resolve())],
            "completed_at": pa.array(
                [_timestamp(match["completed"] if match else None)], pa.string()
            ),
            "file_size_bytes": pa.array([path.stat().st_size], pa.int64()),
            "file_sha256": [sha256_file(path)],
            "num_rows": pa.array([frames.num_rows], pa.int64()),
            "num_targets": pa.array([max(targets, default=0)], pa.int64()),
        }
    )


def find(path: Path) -> list[RunFolder]:
    """The run folder at path, if it is one."""
    return [scan_run_folder(path)] if is_run_folder(path) else []


FAMILY = SourceFamily(
    name=CATEGORY,
    description="3D boids run folder ({prefix}-started-{YYYYMMDD-HHMMSS}/ with config.yaml and "
    "episode-{N}-completed-{stamp}.parquet files; other files in it are ignored)",
    find=find,
)
