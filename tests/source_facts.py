"""Expected figures computed straight from the source files with pyarrow, independently of
the extract code, for comparing with the marts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SENTINEL = -1.0


def episode_files(run: Path) -> list[Path]:
    """Episode parquet files of a run folder in episode-number order."""
    files = run.glob("episode-*-completed-*.parquet")
    return sorted(files, key=lambda p: int(p.name.split("-")[1]))


def run_folders(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir() if (p / "config.yaml").is_file())


def _valid(values: pa.ChunkedArray, sentinel: bool) -> int:
    array = values.to_numpy(zero_copy_only=False).astype(float)
    ok = ~np.isnan(array)
    if sentinel:
        ok &= array != SENTINEL
    return int(ok.sum())


def property_value_count(table: pa.Table) -> int:
    """Values the EAV store must hold for one episode file: every non-null, non-NaN
    distance and closest-point component; the no-scene-mesh sentinel is not a value."""
    total = 0
    for name in table.column_names:
        col = table.column(name)
        is_list = pa.types.is_list(col.type) or pa.types.is_fixed_size_list(col.type)
        scene = name.startswith("mesh_scene")
        if name.startswith("distance") or (name.startswith("mesh_scene") and not is_list):
            total += _valid(col, sentinel=scene)
        elif is_list:
            for i in range(3):
                total += _valid(pc.list_element(col, i), sentinel=False)
    return total


def target_numbers(table: pa.Table) -> list[int]:
    pattern = re.compile(r"^distance(?:_to)?_target_center_(\d+)$")
    return sorted(int(m[1]) for name in table.column_names if (m := pattern.match(name)))
