"""The key of extended_properties, (observation_id, property_id), holds on both targets.

Postgres enforces it while writing: a unique index on (episode_id, observation_id,
property_id), with the foreign key (observation_id, episode_id) -> observations that
`dbt build` tests (an observation belongs to one episode, so the index covers the key).
DuckDB, where the project creates no indexes, checks it with a dbt test."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from extract.samples.boids3d import Boids3DSpec, write_run_folder
from tests.warehouse import Warehouse

SPEC = Boids3DSpec(num_episodes=2, num_frames=12, num_agents=3, seed=31, prefix="keys")
EAV = "marts.extended_properties"
ONE_VALUE = (
    f"select observation_id, episode_id, property_id from {EAV} "
    "order by observation_id, property_id limit 1"
)
EAV_TESTS = ("--select", "extended_properties", "--exclude-resource-type", "unit_test")


def failing(statuses: dict[str, str]) -> set[str]:
    """The names of the tests that did not pass."""
    return {name for name, status in statuses.items() if status != "pass"}


def test_duplicates_and_misplaced_values_are_caught(
    empty_warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse = empty_warehouse
    warehouse.build(write_run_folder(tmp_path / "data", SPEC))
    statuses = warehouse.test_statuses(*EAV_TESTS)
    assert len(statuses) >= 6 and not failing(statuses)
    rows = warehouse.scalar(f"select count(*) from {EAV}")
    observation_id, episode_id, property_id = warehouse.query(ONE_VALUE)[0]
    value = f"observation_id = {observation_id} and property_id = '{property_id}'"
    duplicate = f"insert into {EAV} select * from {EAV} where {value}"

    if warehouse.target == "postgres":
        with pytest.raises(psycopg2.errors.UniqueViolation, match="already exists"):
            warehouse.execute(duplicate)
        assert warehouse.scalar(f"select count(*) from {EAV}") == rows
    else:
        warehouse.execute(duplicate)
        assert failing(warehouse.test_statuses(*EAV_TESTS)) == {
            "unique_combination_of_columns_extended_properties_observation_id__property_id"
        }
        warehouse.execute(
            f"delete from {EAV} where {value} and rowid = (select max(rowid) from {EAV})"
        )
        assert warehouse.scalar(f"select count(*) from {EAV}") == rows

    # the value moved to the other episode: the index allows it, the foreign key does not
    other = warehouse.scalar(
        f"select min(episode_id) from marts.episodes where episode_id <> {episode_id}"
    )
    warehouse.execute(f"update {EAV} set episode_id = {other} where {value}")
    assert failing(warehouse.test_statuses(*EAV_TESTS)) == {
        "foreign_key_extended_properties_observation_id__episode_id__observation_id__episode_id__ref_observations_"
    }
