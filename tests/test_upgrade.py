"""A warehouse built by the previous version of the project upgrades in place on `dbt build`
(dbt_project/macros/upgrade_warehouse.sql): the computed properties table that became a view,
DuckDB indexes the project no longer creates, and the unique index that now enforces the key
of extended_properties on Postgres."""

from __future__ import annotations

from pathlib import Path

from extract.samples.boids3d import Boids3DSpec, write_run_folder
from tests.conftest import require_postgres
from tests.warehouse import PRODUCTION_BUILD, duckdb_warehouse, postgres_warehouse

SPEC = Boids3DSpec(num_episodes=2, num_frames=15, num_agents=4, seed=5, prefix="upgrade")


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


def test_previous_postgres_eav_index_upgrades_in_place(tmp_path: Path) -> None:
    require_postgres()
    run = write_run_folder(tmp_path / "data", SPEC)
    eav = "marts.extended_properties"
    indexes = (
        "select indisunique, pg_get_indexdef(indexrelid) from pg_index "
        f"where indrelid = '{eav}'::regclass order by indisunique"
    )
    with postgres_warehouse(tmp_path) as warehouse:
        warehouse.build(run)
        built = warehouse.query(indexes)
        assert [(unique, definition.split(" USING ")[1]) for unique, definition in built] == [
            (False, "btree (episode_id, property_id)"),
            (True, "btree (episode_id, observation_id, property_id)"),
        ]
        values = warehouse.scalar(f"select count(*) from {eav}")

        # the previous layout: no unique index; and the table holds one duplicate value
        unique_index = warehouse.scalar(
            f"select indexrelid::regclass::text from pg_index "
            f"where indrelid = '{eav}'::regclass and indisunique"
        )
        warehouse.execute(
            f"drop index {unique_index}; "
            f"insert into {eav} select * from {eav} order by observation_id, property_id limit 1"
        )
        failed = warehouse.dbt(*PRODUCTION_BUILD, check=False)
        assert failed.returncode != 0
        assert "is duplicated" in failed.stdout
        assert warehouse.scalar(f"select count(*) from {eav}") == values + 1

        warehouse.execute(
            f"delete from {eav} where ctid = (select max(ctid) from {eav} "
            "where (observation_id, property_id) in (select observation_id, property_id "
            f"from {eav} group by 1, 2 having count(*) > 1))"
        )
        result = warehouse.dbt_build()
        assert "upgrade: enforcing the key" in result.stdout
        upgraded = warehouse.query(indexes)
        assert upgraded[0] == built[0]
        unique, definition = upgraded[1]
        assert unique
        assert definition.endswith(
            f"ON {eav} USING btree (episode_id, observation_id, property_id)"
        )
        assert warehouse.scalar(f"select count(*) from {eav}") == values
