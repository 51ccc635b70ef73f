"""A server crash with the dbt-built tables UNLOGGED (the default on Postgres): the server
empties them and their incremental state together, the raw tables stay, and the next
`dbt build` rebuilds every mart as a fresh build makes it. On a private server
(bench/postgres_settings.py), crashed with `pg_ctl stop -m immediate`."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from bench.postgres_settings import PG_BIN, pg_ctl, private_cluster
from tests.warehouse import REQUIRE_POSTGRES_VAR, Warehouse, assert_same_marts, new_warehouse


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A private server of its own (cluster folder, port), started; removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        reason = f"no PostgreSQL 15 server binaries in {PG_BIN} to start a private server"
        if os.environ.get(REQUIRE_POSTGRES_VAR) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    with private_cluster(port) as cluster:
        pg_ctl(cluster, port, "start", {})
        yield cluster, port


def persistence(warehouse: Warehouse, table: str) -> str:
    """pg_class.relpersistence of a table: `p` logged, `u` unlogged."""
    return warehouse.scalar(f"select relpersistence from pg_class where oid = '{table}'::regclass")


def test_a_crash_empties_marts_and_state_together_and_the_next_build_restores_them(
    private_server: tuple[Path, int],
    sample_runs: Path,
    postgres_built: Warehouse,
    tmp_path: Path,
) -> None:
    cluster, port = private_server
    server = {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "postgres", "PGPASSWORD": ""}
    admin = psycopg2.connect(dbname="postgres", host="127.0.0.1", port=port, user="postgres")
    admin.autocommit = True
    with contextlib.closing(admin), admin.cursor() as cur:
        cur.execute("create database tracking_crash")
    warehouse = Warehouse(
        "postgres",
        {**server, "PGDATABASE": "tracking_crash", "GRAFANA_DB_USER": "grafana"},
        tmp_path,
    )
    warehouse.build(sample_runs)
    assert persistence(warehouse, "marts.extended_properties") == "u"
    assert persistence(warehouse, "intermediate.incremental_state") == "u"
    assert persistence(warehouse, "raw.boids_3d_frames") == "p"
    raw_rows = warehouse.scalar("select count(*) from raw.boids_3d_frames")

    pg_ctl(cluster, port, "stop", {}, mode="immediate")
    pg_ctl(cluster, port, "start", {})

    # the crash emptied the marts and the state that said their episodes were built
    assert warehouse.scalar("select count(*) from marts.extended_properties") == 0
    assert warehouse.scalar("select count(*) from marts.observations") == 0
    assert warehouse.scalar("select count(*) from intermediate.incremental_state") == 0
    assert warehouse.scalar("select count(*) from raw.boids_3d_frames") == raw_rows > 0

    warehouse.dbt_build()
    assert_same_marts(warehouse, postgres_built)


def test_logged_tables_when_the_setting_is_false(sample_runs: Path, tmp_path: Path) -> None:
    with new_warehouse("postgres", tmp_path) as warehouse:
        warehouse.env["TRACKING_POSTGRES_UNLOGGED"] = "false"
        warehouse.build(sample_runs)
        assert persistence(warehouse, "marts.extended_properties") == "p"
        assert persistence(warehouse, "intermediate.incremental_state") == "p"
