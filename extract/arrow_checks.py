"""Column checks and conversions on pyarrow tables shared by the source readers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from extract.errors import InputFileError
from extract.value_bounds import RANGE_HINT, RANGE_TEXT, within

# How messages name a row, given its 0-based index in the table. Readers of text files pass
# their own label (CSV: the line number in the file).
RowLabel = Callable[[int], str]
# What a text cell holding a number looks like (the numeric check names the first other cell).
NUMBER_PATTERN = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf|infinity|nan)\s*$"


def row_index(row: int) -> str:
    """The default row label: the 0-based row index."""
    return f"row {row}"


def require_columns(path: Path, table: pa.Table, columns: list[str]) -> None:
    """Refuse a table that lacks any of the columns."""
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputFileError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(table.column_names)}",
            "is this the right kind of file?",
        )


def _first_row(mask: pa.Array | pa.ChunkedArray) -> int:
    return int(np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False)))[0])


def _check_numeric(
    path: Path, col: pa.ChunkedArray, name: str, expected: str, label: RowLabel
) -> None:
    """Refuse a column that is not numeric (an all-empty column counts as numeric); when its
    cells are text, name the first one that is not a number."""
    kind = col.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
        return
    try:
        text = col.cast(pa.string())
    except pa.ArrowException:
        text = None
    if text is not None:
        number = pc.fill_null(
            pc.match_substring_regex(text, NUMBER_PATTERN, ignore_case=True), True
        )
        if not pc.all(number).as_py():
            row = _first_row(pc.invert(number))
            raise InputFileError(
                path,
                f"column {name!r} must be {expected}; {label(row)} holds {text[row].as_py()!r}",
            )
    raise InputFileError(path, f"column {name!r} must be {expected}, found type {kind}")


def integer_column(
    path: Path, table: pa.Table, name: str, *, allow_negative: bool, label: RowLabel = row_index
) -> pa.Array:
    """A non-null int64 column; float columns holding whole numbers are accepted."""
    col = table.column(name)
    _check_numeric(path, col, name, "an integer", label)
    if col.null_count:
        row = _first_row(pc.is_null(col))
        raise InputFileError(path, f"column {name!r} has an empty value at {label(row)}")
    if pa.types.is_floating(col.type):
        whole = pc.equal(pc.floor(col), col)
        if not pc.all(whole).as_py():
            row = _first_row(pc.invert(whole))
            raise InputFileError(
                path, f"column {name!r} must hold whole numbers, {label(row)} is {col[row].as_py()}"
            )
    out = col.cast(pa.int64())
    if not allow_negative and len(out) and pc.min(out).as_py() < 0:
        row = _first_row(pc.less(out, 0))
        raise InputFileError(
            path, f"column {name!r} is negative ({out[row].as_py()}) at {label(row)}"
        )
    return out.combine_chunks()


def float_column(
    path: Path, table: pa.Table, name: str, *, required: bool, label: RowLabel = row_index
) -> pa.Array:
    """A float64 column. Positions (`required`) must be present and finite at every row;
    other measurements may be empty, and NaN is landed as NULL (no value). Every value must
    be within MAX_MAGNITUDE (extract/value_bounds.py)."""
    col = table.column(name)
    _check_numeric(path, col, name, "numeric", label)
    out = col.cast(pa.float64()).combine_chunks()
    values = out.to_numpy(zero_copy_only=False)
    if required:
        bad = ~np.isfinite(values)  # NULLs come out of to_numpy as NaN
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            if not out[row].is_valid:
                raise InputFileError(path, f"column {name!r} has an empty value at {label(row)}")
            raise InputFileError(
                path,
                f"column {name!r} must be a finite number at every row; "
                f"{label(row)} is {out[row].as_py()}",
            )
    elif np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise InputFileError(path, f"column {name!r} is infinite at {label(row)}")
    _check_range(path, name, values, label)
    return out if required else nan_to_null(out)


def _check_range(path: Path, name: str, values: np.ndarray, label: RowLabel) -> None:
    """Refuse a value beyond MAX_MAGNITUDE (extract/value_bounds.py); NaN is no value."""
    beyond = ~within(values) & ~np.isnan(values)
    if beyond.any():
        row = int(np.flatnonzero(beyond)[0])
        raise InputFileError(
            path, f"column {name!r} is {values[row]} at {label(row)}, {RANGE_TEXT}", RANGE_HINT
        )


def nan_to_null(arr: pa.Array) -> pa.Array:
    """NaN means "no value" in the source files: land it as NULL."""
    nan = pc.is_nan(arr)
    if not pc.any(nan).as_py():
        return arr
    return pc.if_else(nan, pa.scalar(None, pa.float64()), arr)


def point_columns(path: Path, table: pa.Table, name: str) -> list[pa.Array]:
    """Split a list-of-3 column into x, y, z float64 arrays (NULL where the list is NULL).

    A plain numeric column in place of the list (runs without a scene mesh write the sentinel
    -1.0 that way) is broadcast to the three components; staging turns the sentinel into NULL.
    """
    col = table.column(name).combine_chunks()
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        scalar = float_column(path, table, name, required=False)
        return [scalar, scalar, scalar]
    if not (
        pa.types.is_list(col.type)
        or pa.types.is_large_list(col.type)
        or pa.types.is_fixed_size_list(col.type)
    ) or not (
        pa.types.is_floating(col.type.value_type) or pa.types.is_integer(col.type.value_type)
    ):
        raise InputFileError(
            path, f"column {name!r} must be a list of 3 numbers, found type {col.type}"
        )
    lengths = pc.list_value_length(col)
    wrong = pc.fill_null(pc.not_equal(lengths, 3), False)
    if pc.any(wrong).as_py():
        row = _first_row(wrong)
        raise InputFileError(
            path,
            f"column {name!r} must hold 3 numbers per row; row {row} has {lengths[row].as_py()}",
        )
    parts = []
    for i in range(3):
        part = pc.list_element(col, i).cast(pa.float64())
        if pc.any(pc.is_inf(part)).as_py():
            raise InputFileError(path, f"column {name!r} has an infinite component")
        _check_range(path, f"{name}[{i}]", part.to_numpy(zero_copy_only=False), row_index)
        parts.append(nan_to_null(part))
    return parts
