"""Real-world tracking sessions: camera CSV files and an optional Metadata.yaml.

A session folder `YYYY_MM_DD-session_NNNN` holds an optional `Metadata.yaml` (notes,
data_sources, maybe a frame rate) and one sub-folder per camera; each `*_bboxes.csv`,
`*_tracks.csv` or `*_centroids_3d.csv` directly in a camera folder is one episode. Other files
and deeper folders are ignored. Lands three raw tables:

- `tracking_csv_sessions`: one row per session folder, Metadata.yaml as JSON text;
- `tracking_csv_episodes`: one row per CSV file (camera, shape, fingerprint, ignored columns);
- `tracking_csv_frames`: the CSV rows as read (track_id, frame, x, y, z, x1..y2, confidence,
  class; NULL where the shape has no such column), tagged with `episode_id`.

Each file is read whole with pyarrow and checked with vectorised operations; a file with any
invalid row is refused as a whole (docs/architecture.md has the table of cases). Messages name
rows by their line in the file, counting the header as line 1.

Path safety: nothing outside the session folder is opened or listed. A Metadata.yaml, camera
folder or episode CSV that is a link resolving outside it refuses the session, and the paths in
Metadata.yaml (`data_sources[].path`) are recorded, never opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv

from extract.arrow_checks import float_column, integer_column, require_columns
from extract.config_files import frame_rate, json_text, read_yaml_mapping
from extract.errors import InputFileError
from extract.fingerprint import sha256_file
from extract.ids import stable_id
from extract.sources import EpisodeRows, Skipped, SourceFamily

CATEGORY = "tracking_csv"
METADATA_FILE = "Metadata.yaml"
SESSION_FOLDER_RE = re.compile(r"^(?P<date>\d{4}_\d{2}_\d{2})-session_(?P<number>\d+)$")
KEY_COLUMNS = ("track_id", "frame")
POSITION_COLUMNS = ("x", "y", "z", "x1", "y1", "x2", "y2")
BOX_EDGES = (("x1", "x2"), ("y1", "y2"))


@dataclass(frozen=True)
class Shape:
    """One of the three CSV layouts: its file-name suffix and the columns it lands."""

    name: str
    suffix: str
    positions: tuple[str, ...]  # required, finite at every row
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*KEY_COLUMNS, *self.positions, *self.optional)


BBOXES = Shape("bboxes", "_bboxes.csv", ("x1", "y1", "x2", "y2"), ("confidence", "class"))
SHAPES = (
    BBOXES,
    Shape("tracks", "_tracks.csv", ("x", "y")),
    Shape("centroids_3d", "_centroids_3d.csv", ("x", "y", "z")),
)


def shape_of(file: Path) -> Shape | None:
    """The shape of an episode CSV from its name, or None for any other file."""
    return next((s for s in SHAPES if file.name.endswith(s.suffix)), None)


class CsvLines:
    """Row labels for messages: `line N`, N the 1-based line of the row in the file (the
    header is line 1; blank lines, which the reader skips, are counted). The line numbers are
    only worked out when a message needs one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def _numbers(self) -> np.ndarray:
        """1-based numbers of the file's non-blank lines, the header's first."""
        data = np.frombuffer(self.path.read_bytes(), dtype=np.uint8)
        ends = np.flatnonzero(data == ord("\n"))
        starts = np.concatenate(([0], ends + 1))
        stops = np.concatenate((ends, [data.size]))
        length = stops - starts
        carriage = np.zeros(length.size, dtype=bool)
        carriage[length > 0] = data[stops[length > 0] - 1] == ord("\r")
        return np.flatnonzero(length - carriage > 0) + 1

    def __call__(self, row: int) -> str:
        if row + 1 < self._numbers.size:
            return f"line {self._numbers[row + 1]}"
        return f"data row {row + 1}"


@dataclass(frozen=True)
class SessionFolder:
    """A session folder: its episode CSVs in (camera, file name) order, and the links in it
    that resolve outside it (which refuse the session)."""

    path: Path
    files: tuple[Path, ...]
    escaping_links: tuple[Path, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def session_id(self) -> int:
        return stable_id(CATEGORY, self.path.name)

    def episode_id(self, file: Path) -> int:
        return stable_id(CATEGORY, self.path.name, file.parent.name, file.name)

    @property
    def episode_files(self) -> list[Path]:
        return list(self.files)

    def inputs_of(self, file: Path) -> list[Path]:
        """Only the file itself: the session's own config is re-landed on every run."""
        return [file]

    def session_table(self) -> pa.Table:
        return session_table(self)

    def read_episode(self, file: Path) -> EpisodeRows:
        """The `tracking_csv_frames` and `tracking_csv_episodes` rows of one CSV file."""
        shape = shape_of(file)
        assert shape is not None, file
        frames, ignored = frames_table(file, shape, self.episode_id(file))
        return EpisodeRows(frames, episode_table(self, file, shape, frames, ignored))


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def scan_session_folder(path: Path) -> SessionFolder:
    """List a session folder's episode CSVs without following links out of it."""
    root = path.resolve()
    files: list[Path] = []
    escaping: list[Path] = []

    def inside(entry: Path) -> bool:
        if entry.resolve().is_relative_to(root):
            return True
        escaping.append(entry)
        return False

    metadata = path / METADATA_FILE
    if metadata.is_symlink():
        inside(metadata)
    for camera in _visible(path):
        if not camera.is_dir() or not inside(camera):
            continue
        for file in _visible(camera):
            if shape_of(file) and file.is_file() and inside(file):
                files.append(file)
    return SessionFolder(path, tuple(files), tuple(escaping))


def read_metadata(path: Path) -> dict | None:
    """Metadata.yaml as a mapping; None when the session has none."""
    if not path.is_file():
        return None
    return read_yaml_mapping(
        path, "a mapping (notes, data_sources, ...)", "fix the file or remove it"
    )


def _session_date(text: str) -> str | None:
    """YYYY_MM_DD as an ISO date; None when it is no date (2025_13_40)."""
    try:
        return datetime.strptime(text, "%Y_%m_%d").date().isoformat()
    except ValueError:
        return None


def session_table(session: SessionFolder) -> pa.Table:
    """The one-row `tracking_csv_sessions` table of a session folder."""
    if session.escaping_links:
        link = session.escaping_links[0]
        raise InputFileError(
            link,
            f"is a link to {link.resolve()}, outside the session folder {session.path}",
            "copy the data into the session folder: nothing outside it is read",
        )
    metadata_path = session.path / METADATA_FILE
    metadata = read_metadata(metadata_path)
    text = None if metadata is None else json_text(metadata)
    name = SESSION_FOLDER_RE.match(session.path.name)
    assert name is not None, session.path  # find() only returns folders named so
    return pa.table(
        {
            "session_id": pa.array([session.session_id], pa.int64()),
            "session_name": [session.path.name],
            "source_path": [str(session.path.resolve())],
            "session_date": pa.array([_session_date(name["date"])], pa.string()),
            "session_number": pa.array([int(name["number"])], pa.int64()),
            "metadata_json": pa.array([text], pa.string()),
            "metadata_frame_rate": pa.array(
                [frame_rate(metadata or {}, metadata_path)], pa.float64()
            ),
            "num_episode_files": pa.array([len(session.files)], pa.int64()),
        }
    )


def read_csv(path: Path, label: CsvLines) -> pa.Table:
    """The CSV file as an arrow table (types inferred; `class` read as text). Read on one
    thread, so that a line with the wrong number of fields is reported with its number."""
    ragged: list[csv.InvalidRow] = []

    def on_invalid_row(row: csv.InvalidRow) -> str:
        ragged.append(row)
        return "error"

    hint = "expected comma-separated text with a header line and as many fields on every line"
    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(use_threads=False),
            parse_options=csv.ParseOptions(invalid_row_handler=on_invalid_row),
            convert_options=csv.ConvertOptions(column_types={"class": pa.string()}),
        )
    except (pa.ArrowException, OSError) as exc:
        if ragged and ragged[0].number:  # counts records, the header being record 1
            row = ragged[0]
            raise InputFileError(
                path,
                f"{label(row.number - 2)} has {row.actual_columns} fields, the header "
                f"{row.expected_columns}",
                hint,
            ) from exc
        raise InputFileError(path, f"not a readable CSV file ({exc})", hint) from exc
    names = table.column_names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputFileError(
            path, f"column(s) {', '.join(repeated)} appear more than once in the header"
        )
    return table


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _confidence(path: Path, table: pa.Table, label: CsvLines) -> pa.Array:
    """The confidence column: NULL where empty, refused outside [0, 1]."""
    values = float_column(path, table, "confidence", required=False, label=label)
    outside = pc.fill_null(pc.or_(pc.less(values, 0.0), pc.greater(values, 1.0)), False)
    if pc.any(outside).as_py():
        row = _first(outside.to_numpy(zero_copy_only=False))
        raise InputFileError(
            path,
            f"column 'confidence' must be within [0, 1]; {label(row)} is {values[row].as_py()}",
        )
    return values


def _classes(table: pa.Table) -> pa.Array:
    """The class labels as text, an empty cell as NULL."""
    labels = table.column("class").cast(pa.string()).combine_chunks()
    return pc.if_else(pc.equal(labels, ""), pa.scalar(None, pa.string()), labels)


def _check_boxes(path: Path, columns: dict[str, pa.Array], label: CsvLines) -> None:
    """Refuse inverted boxes (x2 < x1 or y2 < y1); a zero-width box is allowed."""
    inverted = {
        (low, high): columns[high].to_numpy() < columns[low].to_numpy() for low, high in BOX_EDGES
    }
    rows = np.logical_or(*inverted.values())
    if rows.any():
        row = _first(rows)
        low, high = next(edge for edge, mask in inverted.items() if mask[row])
        raise InputFileError(
            path,
            f"inverted box at {label(row)}: column {high!r} ({columns[high][row].as_py()}) is "
            f"less than column {low!r} ({columns[low][row].as_py()})",
            "corners must satisfy x1 <= x2 and y1 <= y2",
        )


def _check_unique(path: Path, tracks: np.ndarray, frames: np.ndarray, label: CsvLines) -> None:
    """Refuse a second row for one (track_id, frame), naming it and the first."""
    order = np.lexsort((np.arange(tracks.size), frames, tracks))
    same = (tracks[order][1:] == tracks[order][:-1]) & (frames[order][1:] == frames[order][:-1])
    if same.any():
        later, earlier = order[1:][same], order[:-1][same]
        i = int(np.argmin(later))
        row, first = int(later[i]), int(earlier[i])
        raise InputFileError(
            path,
            f"duplicate row at {label(row)}: track_id {tracks[row]}, frame {frames[row]} "
            f"already at {label(first)}",
            "a track has at most one row per frame",
        )


def frames_table(path: Path, shape: Shape, episode_id: int) -> tuple[pa.Table, list[str]]:
    """Read and check one CSV file: its `tracking_csv_frames` rows, and the columns it holds
    beyond its shape's (ignored)."""
    label = CsvLines(path)
    source = read_csv(path, label)
    require_columns(path, source, [*KEY_COLUMNS, *shape.positions])
    if source.num_rows == 0:
        raise InputFileError(path, "the file holds no rows (only a header)")
    n = source.num_rows
    columns: dict[str, pa.Array] = {
        "episode_id": pa.array(np.full(n, episode_id, dtype=np.int64)),
        **{
            key: integer_column(path, source, key, allow_negative=False, label=label)
            for key in KEY_COLUMNS
        },
    }
    for name in POSITION_COLUMNS:
        columns[name] = (
            float_column(path, source, name, required=True, label=label)
            if name in shape.positions
            else pa.nulls(n, pa.float64())
        )
    present = set(source.column_names) & set(shape.optional)
    columns["confidence"] = (
        _confidence(path, source, label) if "confidence" in present else pa.nulls(n, pa.float64())
    )
    columns["class"] = _classes(source) if "class" in present else pa.nulls(n, pa.string())
    if shape is BBOXES:
        _check_boxes(path, columns, label)
    _check_unique(path, columns["track_id"].to_numpy(), columns["frame"].to_numpy(), label)
    ignored = [name for name in source.column_names if name not in shape.columns]
    return pa.table(columns), ignored


def episode_table(
    session: SessionFolder, file: Path, shape: Shape, frames: pa.Table, ignored: list[str]
) -> pa.Table:
    """The one-row `tracking_csv_episodes` table of a CSV file."""
    return pa.table(
        {
            "episode_id": pa.array([session.episode_id(file)], pa.int64()),
            "session_id": pa.array([session.session_id], pa.int64()),
            "episode_number": pa.array([session.files.index(file)], pa.int64()),
            "camera": [file.parent.name],
            "file_name": [file.name],
            "shape": [shape.name],
            "file_path": [str(file.resolve())],
            "file_size_bytes": pa.array([file.stat().st_size], pa.int64()),
            "file_sha256": [sha256_file(file)],
            "num_rows": pa.array([frames.num_rows], pa.int64()),
            "ignored_columns": pa.array([", ".join(ignored) or None], pa.string()),
        }
    )


def find(path: Path) -> list[SessionFolder]:
    """The session folder at path, if it is one with at least one episode CSV."""
    if not (SESSION_FOLDER_RE.match(path.name) and path.is_dir()):
        return []
    session = scan_session_folder(path)
    return [session] if session.files or session.escaping_links else []


FAMILY = SourceFamily(
    name=CATEGORY,
    description="tracking session folder (YYYY_MM_DD-session_NNNN/ with an optional "
    "Metadata.yaml and one sub-folder per camera holding *_bboxes.csv, *_tracks.csv or "
    "*_centroids_3d.csv files; other files in it are ignored)",
    find=find,
)
