"""The same input gives the same marts on DuckDB and Postgres, row for row."""

from __future__ import annotations

import json

import pytest

from tests.warehouse import Warehouse

# Every mart, with its key order and the columns holding JSON (compared parsed: Postgres
# stores jsonb, which normalises key order and spacing).
MARTS = {
    "categories": ("category_id", ()),
    "agent_types": ("agent_type_id", ()),
    "property_definitions": ("property_id", ()),
    "property_category_mapping": ("property_id, category_id", ()),
    "sessions": ("session_id", ("config", "metadata")),
    "episodes": ("episode_id", ()),
    "observations": ("observation_id", ()),
    "extended_properties": ("observation_id, property_id", ()),
    "observation_properties_wide": ("observation_id", ()),
    "frame_stats": ("episode_id, time_index", ()),
    "window_stats": ("episode_id, window_index, metric", ()),
    "spatial_occupancy": ("episode_id, bin_x, bin_y, bin_z", ()),
    "episode_summary": ("episode_id", ()),
    "pairwise_frame_stats": ("episode_id, time_index", ()),
    "agent_pair_velocity_correlation": (
        "episode_id, agent_type_id_a, agent_id_a, agent_type_id_b, agent_id_b",
        (),
    ),
}

# Aggregates over floats (sums, means, standard deviations, quantiles, correlations) are
# computed in a different order on each target, so their floats agree within the tolerance
# stated in docs/architecture.md; integers, keys and text, and every other mart, are equal.
ANALYTICS_MARTS = {
    "frame_stats",
    "window_stats",
    "spatial_occupancy",
    "episode_summary",
    "pairwise_frame_stats",
    "agent_pair_velocity_correlation",
}
FLOAT_TOLERANCE = 1e-9  # |a - b| <= FLOAT_TOLERANCE * max(1, |a|, |b|)


def rows_match(duck: tuple, pg: tuple, approximate: bool) -> bool:
    """Rows are equal, floats within FLOAT_TOLERANCE when approximate."""
    if not approximate:
        return duck == pg
    return len(duck) == len(pg) and all(
        a == pytest.approx(b, rel=FLOAT_TOLERANCE, abs=FLOAT_TOLERANCE)
        if isinstance(a, float) and isinstance(b, float)
        else a == b
        for a, b in zip(duck, pg, strict=True)
    )


def table_contents(warehouse: Warehouse, name: str) -> tuple[list[str], list[tuple]]:
    order, json_columns = MARTS[name]
    columns = [
        row[0]
        for row in warehouse.query(
            "select column_name from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{name}' order by ordinal_position"
        )
    ]
    select = ", ".join(f"cast({c} as varchar) as {c}" if c in json_columns else c for c in columns)
    rows = warehouse.query(f"select {select} from marts.{name} order by {order}")
    positions = [columns.index(c) for c in json_columns]
    parsed = [
        tuple(json.loads(v) if i in positions and v is not None else v for i, v in enumerate(row))
        for row in rows
    ]
    return columns, parsed


@pytest.mark.parametrize("mart", sorted(MARTS))
def test_mart_identical_on_both_targets(
    duckdb_built: Warehouse, postgres_built: Warehouse, mart: str
) -> None:
    duck_columns, duck_rows = table_contents(duckdb_built, mart)
    pg_columns, pg_rows = table_contents(postgres_built, mart)
    assert duck_columns == pg_columns
    assert len(duck_rows) > 0
    assert len(duck_rows) == len(pg_rows)
    for duck, pg in zip(duck_rows, pg_rows, strict=True):
        assert rows_match(duck, pg, approximate=mart in ANALYTICS_MARTS), (duck, pg)


def test_marts_schema_holds_only_marts(duckdb_built: Warehouse, postgres_built: Warehouse) -> None:
    for warehouse in (duckdb_built, postgres_built):
        tables = warehouse.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1"
        )
        assert [t for (t,) in tables] == sorted(MARTS)
