"""Reading one tracking CSV file: its shape from its name, its rows read whole with pyarrow and
checked with vectorised operations. A file with any invalid row is refused as a whole
(docs/architecture.md has the table of cases); messages name rows by their line in the file,
counting the header as line 1. The session layout is extract/sources/tracking_csv.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv

from extract.arrow_checks import float_column, integer_column, require_columns
from extract.errors import InputFileError
from extract.settings import REPO_ROOT

KEY_COLUMNS = ("track_id", "frame")
BOX = ("x1", "y1", "x2", "y2")
WORLD_POINT = ("x", "y", "z")
# the float columns of tracking_csv_frames, in order (u, v: the image point of a 3D row)
FLOAT_COLUMNS = ("x", "y", "z", "x1", "y1", "x2", "y2", "u", "v")
BOX_EDGES = (("x1", "x2"), ("y1", "y2"))
SEEDS = REPO_ROOT / "dbt_project" / "seeds"
DETECTION_CLASSES_SEED = SEEDS / "ref_detection_classes.csv"


@dataclass(frozen=True)
class Shape:
    """One of the three CSV layouts: which file names have it and the columns it lands."""

    name: str
    names: re.Pattern[str]  # file names of the shape
    positions: tuple[str, ...]  # required, finite at every row
    optional: tuple[str, ...] = ()  # landed when the file has them
    # centroids_3d: x, y, z may be empty together (the ray missed the scene mesh): such a row is
    # counted, not landed
    world_point: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (*KEY_COLUMNS, *self.positions, *self.optional)


BBOXES = Shape(
    "bboxes",
    re.compile(r"^(.+_bboxes|tracked_bboxes_\d+)\.csv$"),
    BOX,
    ("confidence", "class"),
)
SHAPES = (
    BBOXES,
    Shape("tracks", re.compile(r"^.+_tracks\.csv$"), ("x", "y")),
    Shape(
        "centroids_3d",
        re.compile(r"^.+_centroids_3d\.csv$"),
        WORLD_POINT,
        (*BOX, "confidence", "class", "u", "v"),
        world_point=True,
    ),
)


def shape_of(file: Path) -> Shape | None:
    """The shape of an episode CSV from its name, or None for any other file."""
    return next((s for s in SHAPES if s.names.match(file.name)), None)


class CsvRows(NamedTuple):
    """What one CSV file lands, and what the run reports of it."""

    frames: pa.Table  # the tracking_csv_frames rows
    ignored: list[str]  # columns beyond the shape's, not landed
    rows_without_world_point: int | None  # centroids_3d: rows counted but not landed
    class_labels: list[str]  # distinct class labels, trimmed


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
    corners = {name: columns[name].to_numpy(zero_copy_only=False) for name in BOX}
    inverted = {(low, high): corners[high] < corners[low] for low, high in BOX_EDGES}
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


def _world_point(path: Path, columns: dict[str, pa.Array], label: CsvLines) -> np.ndarray:
    """Which rows have a world point: x, y and z all given, or all empty (the ray missed the
    scene mesh). A row with part of them empty is refused."""
    empty = np.stack(
        [columns[name].is_null().to_numpy(zero_copy_only=False) for name in WORLD_POINT]
    )
    partial = empty.any(axis=0) & ~empty.all(axis=0)
    if partial.any():
        row = _first(partial)
        name = WORLD_POINT[int(np.argmax(empty[:, row]))]
        raise InputFileError(
            path,
            f"column {name!r} has an empty value at {label(row)}",
            "a world point is x, y and z, all given or all empty",
        )
    return ~empty.all(axis=0)


def _labels(classes: pa.Array) -> list[str]:
    """The distinct class labels, spaces trimmed (as SQL trim), without empty ones."""
    trimmed = pc.utf8_trim(classes, characters=" ").to_pylist()
    return sorted({label for label in trimmed if label})


def frames_table(path: Path, shape: Shape, episode_id: int) -> CsvRows:
    """Read and check one CSV file: its `tracking_csv_frames` rows and what the run reports
    of it. A first column with an empty header name is the index pandas writes: not landed."""
    label = CsvLines(path)
    source = read_csv(path, label)
    if source.num_columns and source.column_names[0] == "":
        source = source.remove_column(0)
    present = set(source.column_names)
    # a box is all four corners (centroids_3d files may have none)
    has_box = bool(set(BOX) & present) and set(BOX) <= set(shape.columns)
    needed = dict.fromkeys([*KEY_COLUMNS, *shape.positions, *(BOX if has_box else ())])
    require_columns(path, source, list(needed))
    n = source.num_rows
    columns: dict[str, pa.Array] = {
        "episode_id": pa.array(np.full(n, episode_id, dtype=np.int64)),
        **{
            key: integer_column(path, source, key, allow_negative=False, label=label)
            for key in KEY_COLUMNS
        },
    }
    for name in FLOAT_COLUMNS:
        if name in shape.positions:
            required = not (shape.world_point and name in WORLD_POINT)
            columns[name] = float_column(path, source, name, required=required, label=label)
        elif name in shape.optional and name in present:
            columns[name] = float_column(path, source, name, required=False, label=label)
        else:
            columns[name] = pa.nulls(n, pa.float64())
    optional = present & set(shape.optional)
    columns["confidence"] = (
        _confidence(path, source, label) if "confidence" in optional else pa.nulls(n, pa.float64())
    )
    columns["class"] = _classes(source) if "class" in optional else pa.nulls(n, pa.string())
    if has_box:
        _check_boxes(path, columns, label)
    _check_unique(path, columns["track_id"].to_numpy(), columns["frame"].to_numpy(), label)
    frames = pa.table(columns)
    without = None
    if shape.world_point:
        has_point = _world_point(path, columns, label)
        without = int(n - has_point.sum())
        frames = frames.filter(pa.array(has_point))
    ignored = [name for name in source.column_names if name not in shape.columns]
    return CsvRows(frames, ignored, without, _labels(columns["class"]))


def class_labels_note(labels: list[str], seeds: Path = SEEDS) -> str | None:
    """What the run says of a file's class labels that map to no agent type (neither in the
    ref_detection_classes seed nor, lower-cased, a non-environment ref_agent_types id): how
    they were loaded and how to map them. None when every label maps."""
    mapped = set(_seed_column(seeds / "ref_detection_classes.csv", "detection_class"))
    types = _seed_rows(seeds / "ref_agent_types.csv")
    agents = {r["agent_type_id"] for r in types if r["is_environment"].lower() != "true"}
    unmapped = [x for x in labels if x not in mapped and x.lower() not in agents]
    if not unmapped:
        return None
    quoted = ", ".join(repr(x) for x in unmapped)
    loaded = ", ".join(f"class_{x}" for x in unmapped)
    return (
        f"class label(s) {quoted} map to no agent type: loaded as type(s) {loaded} "
        f"(to map a label, add a row `label,agent_type_id,description` to "
        f"{DETECTION_CLASSES_SEED.relative_to(REPO_ROOT)}; dbt build --full-refresh then "
        "retypes the episodes built before)"
    )


def _seed_rows(path: Path) -> list[dict[str, str]]:
    """A seed CSV's rows as text; none when the file is missing."""
    if not path.is_file():
        return []
    table = csv.read_csv(path, convert_options=csv.ConvertOptions(strings_can_be_null=False))
    return table.cast(pa.schema([(name, pa.string()) for name in table.column_names])).to_pylist()


def _seed_column(path: Path, name: str) -> list[str]:
    return [row[name].strip(" ") for row in _seed_rows(path)]
