"""The baseline the benchmark compares against: the naive loader, pandas `DataFrame.to_sql`
row inserts through SQLAlchemy, of one episode's observations and extended properties into
tables of the same shape (schema `baseline`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy

from extract.settings import PostgresSettings

PROPERTY_COLUMNS = {
    "distance_to_target_center": "distance_target_center_1",
    "distance_to_target_mesh": "distance_to_target_mesh_closest_point_1",
    "distance_to_scene_mesh": "mesh_scene_distance",
}
POINT_COLUMNS = {
    "target_mesh_closest": "target_mesh_closest_point_1",
    "scene_mesh_closest": "mesh_scene_closest_point",
}


def engine(target: str, duckdb_file: str | None = None) -> sqlalchemy.Engine:
    """A SQLAlchemy engine on the benchmark's warehouse."""
    if target == "duckdb":
        return sqlalchemy.create_engine(f"duckdb:///{duckdb_file}")
    s = PostgresSettings.from_env()
    return sqlalchemy.create_engine(
        f"postgresql+psycopg2://{s.user}:{s.password}@{s.host}:{s.port}/{s.database}"
    )


def naive_load(engine: sqlalchemy.Engine, episode_file: str, episode_id: int) -> int:
    """Load one 3D episode the naive way; returns the rows written."""
    frame = pq.read_table(episode_file).to_pandas()
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("create schema if not exists baseline"))
    observations = pd.DataFrame(
        {
            "observation_id": np.arange(len(frame), dtype=np.int64) + episode_id * 10_000_000,
            "episode_id": episode_id,
            "time_index": frame["time"],
            "agent_id": frame["id"],
            "agent_type_id": frame["type"],
            **{c: frame[c] for c in ("x", "y", "z", "v_x", "v_y", "v_z")},
        }
    )
    observations.to_sql(
        "observations", engine, schema="baseline", if_exists="append", index=False, chunksize=10_000
    )
    values = [
        pd.DataFrame(
            {
                "observation_id": observations["observation_id"],
                "property_id": pid,
                "value_float": frame[col],
            }
        )
        for pid, col in PROPERTY_COLUMNS.items()
    ]
    for prefix, col in POINT_COLUMNS.items():
        points = frame[col]
        valid = points.notna()
        stacked = np.stack(points[valid].to_numpy())
        for axis, component in zip("xyz", stacked.T, strict=True):
            values.append(
                pd.DataFrame(
                    {
                        "observation_id": observations["observation_id"][valid].to_numpy(),
                        "property_id": f"{prefix}_{axis}",
                        "value_float": component,
                    }
                )
            )
    properties = pd.concat(values, ignore_index=True).dropna(subset=["value_float"])
    properties.to_sql(
        "extended_properties",
        engine,
        schema="baseline",
        if_exists="append",
        index=False,
        chunksize=10_000,
    )
    return len(observations) + len(properties)
