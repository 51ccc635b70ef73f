"""A warehouse built by the previous version of the project upgrades in place on `dbt build`
(dbt_project/macros/upgrade_warehouse.sql): the computed properties table that became a view,
DuckDB indexes the project no longer creates, and on Postgres the unique indexes that now
enforce the keys of extended_properties and observations (and the index they replace)."""

from __future__ import annotations

from pathlib import Path

from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.conftest import require_postgres
from tests.warehouse import PRODUCTION_BUILD, Warehouse, duckdb_warehouse, postgres_warehouse

SPEC = RunSpec(num_episodes=2, num_frames=15, num_agents=4, seed=5, prefix="upgrade")


def test_previous_duckdb_layout_upgrades_in_place(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    with duckdb_warehouse(tmp_path) as warehouse:
        warehouse.build(run)
        values = warehouse.scalar("select count(*) from marts.extended_properties")
        computed = warehouse.scalar(
            "select count(*) from intermediate.int_computed__property_values"
        )
        assert computed == warehouse.scalar(
            "select count(speed) + count(acceleration_x) + count(acceleration_y) "
            "+ count(acceleration_z) + count(acceleration_magnitude) "
            "from intermediate.int_computed__kinematics"
        )
        assert computed > 0

        # the previous layout: the computed EAV rows as a table that a view reads, indexes
        warehouse.execute(
            """
            create table intermediate.previous as
                select * from intermediate.int_computed__property_values;
            drop view intermediate.int_property_values;
            drop view intermediate.int_computed__property_values;
            alter table intermediate.previous rename to int_computed__property_values;
            create view intermediate.int_property_values as
                select * from intermediate.int_computed__property_values;
            create unique index previous_key on marts.observations (observation_id);
            create index previous_eav on marts.extended_properties (episode_id, property_id);
            """
        )

        result = warehouse.dbt_build()
        assert "upgrade: dropping" in result.stdout
        relation_type = warehouse.scalar(
            "select table_type from information_schema.tables "
            "where table_schema = 'intermediate' and table_name = 'int_computed__property_values'"
        )
        assert relation_type == "VIEW"
        assert warehouse.query("select index_name from duckdb_indexes()") == []
        assert warehouse.scalar("select count(*) from marts.extended_properties") == values
        assert (
            warehouse.scalar("select count(*) from intermediate.int_computed__property_values")
            == computed
        )


def indexes(warehouse: Warehouse, table: str) -> list[tuple[bool, str]]:
    """(unique, columns) of each index of a table."""
    rows = warehouse.query(
        "select indisunique, pg_get_indexdef(indexrelid) from pg_index "
        f"where indrelid = '{table}'::regclass"
    )
    return sorted((unique, definition.split(" USING btree ")[1]) for unique, definition in rows)


def test_previous_postgres_key_indexes_upgrade_in_place(tmp_path: Path) -> None:
    require_postgres()
    run = write_run_folder(tmp_path / "data", SPEC)
    eav, observations = "marts.extended_properties", "marts.observations"
    with postgres_warehouse(tmp_path) as warehouse:
        warehouse.build(run)
        built = indexes(warehouse, eav)
        assert built == [
            (False, "(episode_id, property_id)"),
            (True, "(episode_id, observation_id, property_id)"),
        ]
        built_observations = indexes(warehouse, observations)
        assert built_observations == [
            (True, "(episode_id, time_index, agent_id, agent_type_id)"),
            (True, "(observation_id)"),
        ]
        values = warehouse.scalar(f"select count(*) from {eav}")

        # the previous layout: extended_properties without a unique index, holding one
        # duplicate value; observations indexed on (episode_id, time_index), not on its key
        unique_indexes = warehouse.query(
            "select indexrelid::regclass::text from pg_index where indisunique and indrelid in "
            f"('{eav}'::regclass, '{observations}'::regclass) and indnatts > 1"
        )
        warehouse.execute(
            "".join(f"drop index {index}; " for (index,) in unique_indexes)
            + f"create index previous_frames on {observations} (episode_id, time_index); "
            f"insert into {eav} select * from {eav} order by observation_id, property_id limit 1"
        )
        previous_observations = indexes(warehouse, observations)
        assert previous_observations == [
            (False, "(episode_id, time_index)"),
            (True, "(observation_id)"),
        ]
        failed = warehouse.dbt(*PRODUCTION_BUILD, check=False)
        assert failed.returncode != 0
        assert "is duplicated" in failed.stdout
        assert warehouse.scalar(f"select count(*) from {eav}") == values + 1
        assert indexes(warehouse, observations) == previous_observations

        warehouse.execute(
            f"delete from {eav} where ctid = (select max(ctid) from {eav} "
            "where (observation_id, property_id) in (select observation_id, property_id "
            f"from {eav} group by 1, 2 having count(*) > 1))"
        )
        result = warehouse.dbt_build()
        assert result.stdout.count("upgrade: enforcing the key") == 2
        assert "upgrade: dropping index marts.previous_frames" in result.stdout
        assert indexes(warehouse, eav) == built
        assert indexes(warehouse, observations) == built_observations
        assert warehouse.scalar(f"select count(*) from {eav}") == values
