"""The key of extended_properties, (observation_id, property_id), holds on both targets.

Postgres enforces it while writing: a unique index on (episode_id, observation_id,
property_id), with the foreign key (observation_id, episode_id) -> observations that
`dbt build` tests (an observation belongs to one episode, so the index covers the key).
DuckDB, where the project creates no indexes, checks it with a dbt test."""

from __future__ import annotations

from pathlib import Path

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

    # an observation twice in the computed kinematics reaches the model when its episode is
    # rebuilt: five computed values twice
    kinematics = "intermediate.int_computed__kinematics"
    twice, its_episode = warehouse.query(
        f"select observation_id, episode_id from {kinematics} "
        "where acceleration_magnitude is not null order by observation_id limit 1"
    )[0]
    warehouse.execute(
        f"insert into {kinematics} select * from {kinematics} where observation_id = {twice}; "
        f"update raw.episode_loads set load_seq = load_seq + 1 where episode_id = {its_episode}"
    )
    run = warehouse.dbt("run", "--select", "extended_properties", check=False)
    if warehouse.target == "postgres":
        # refused while writing: the rebuild's transaction left the table as it was
        assert run.returncode != 0
        assert "duplicate key value violates unique constraint" in run.stdout
    else:
        assert run.returncode == 0
        assert warehouse.scalar(f"select count(*) from {EAV}") == rows + 5
        assert failing(warehouse.test_statuses(*EAV_TESTS)) == {
            "unique_combination_of_columns_extended_properties_observation_id__property_id"
        }
        warehouse.execute(
            f"delete from {EAV} where rowid in (select max(rowid) from {EAV} "
            "group by observation_id, property_id having count(*) > 1)"
        )
    assert warehouse.scalar(f"select count(*) from {EAV}") == rows

    # a value moved to the other episode: the index allows it, the foreign key does not
    observation_id, episode_id, property_id = warehouse.query(ONE_VALUE)[0]
    other = warehouse.scalar(
        f"select min(episode_id) from marts.episodes where episode_id <> {episode_id}"
    )
    warehouse.execute(
        f"update {EAV} set episode_id = {other} "
        f"where observation_id = {observation_id} and property_id = '{property_id}'"
    )
    assert failing(warehouse.test_statuses(*EAV_TESTS)) == {
        "foreign_key_extended_properties_observation_id__episode_id__observation_id__episode_id__ref_observations_"
    }
