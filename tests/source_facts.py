"""Expected figures computed straight from the source files with pyarrow and pandas,
independently of the extract code, for comparing with the marts."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from extract.ids import stable_id

SENTINEL = -1.0


def episode_files(run: Path) -> list[Path]:
    """Episode parquet files of a run folder in episode-number order."""
    files = run.glob("episode-*-completed-*.parquet")
    return sorted(files, key=lambda p: int(p.name.split("-")[1]))


def episode_id(run_name: str, number: int) -> int:
    """The id of episode `number` of the 3D run folder `run_name`."""
    return stable_id("boids_3d", run_name, str(number))


def observation_id(episode: int, time_index: int, agent_type: str, agent_id: int) -> int:
    """The observation key as docs/architecture.md states it: the first 64 bits of
    md5('episode_id|time_index|agent_type_id|agent_id'), top bit cleared."""
    key = f"{episode}|{time_index}|{agent_type}|{agent_id}"
    return int(hashlib.md5(key.encode()).hexdigest()[:16], 16) & (2**63 - 1)


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


def _exact_float(text: str) -> float:
    """A CSV cell as Python parses it (correctly rounded, whatever the pandas version)."""
    return float(text) if text else np.nan


def read_tracking_csv(path: Path) -> pd.DataFrame:
    """A tracking CSV file as pandas reads it; measurements as floats."""
    header = path.read_text().splitlines()[0].split(",")
    keys = ("track_id", "frame", "class")
    converters = {c: _exact_float for c in header if c not in keys}
    return pd.read_csv(path, converters=converters, dtype={"class": str})
