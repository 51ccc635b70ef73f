"""Faults: an extract killed at any point, or losing its Postgres connection, then rerun,
ends with exactly the expected data; a failed dbt build leaves the previous marts."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path

import psycopg2
import pytest

from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.settings import PostgresSettings
from tests.warehouse import Warehouse

SPEC = RunSpec(num_episodes=4, num_frames=300, num_agents=20, seed=2, prefix="fault")
ROWS = 4 * 301 * 21


def assert_exact_raw(warehouse: Warehouse) -> None:
    """Every row once: the expected counts, no duplicate entity, bookkeeping complete."""
    assert warehouse.scalar("select count(*) from raw.boids_3d_frames") == ROWS
    assert (
        warehouse.scalar(
            "select count(*) from (select episode_id, time, id, type from raw.boids_3d_frames "
            "group by 1, 2, 3, 4 having count(*) > 1) d"
        )
        == 0
    )
    for table, rows in (
        ("boids_3d_episodes", 4),
        ("boids_3d_sessions", 1),
        ("episode_loads", 4),
        ("landed_files", 4),
    ):
        assert warehouse.scalar(f"select count(*) from raw.{table}") == rows, table


def test_sigkill_at_any_point_then_rerun(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    started = time.perf_counter()
    assert empty_warehouse.extract(run) == 0
    duration = time.perf_counter() - started
    killed = 0
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        proc = empty_warehouse.start_extract("--force", run)
        time.sleep(duration * fraction)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate()
        assert empty_warehouse.extract(run) == 0
        assert_exact_raw(empty_warehouse)
    assert killed >= 3
    empty_warehouse.dbt_build()
    assert empty_warehouse.scalar("select count(*) from marts.observations") == ROWS


def _terminate_when_loading(proc: subprocess.Popen[str], database: str) -> int:
    """Wait until the extract runs a statement on the database, then kill its connections.
    Returns how many were terminated (0 if the extract finished first)."""
    settings = PostgresSettings.from_env()
    with contextlib.closing(psycopg2.connect(**settings.connect_kwargs("postgres"))) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while proc.poll() is None:
                cur.execute(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                    "where datname = %s and pid <> pg_backend_pid() and state = 'active' "
                    "and query ilike any (array['%%copy%%', '%%insert%%', '%%delete%%'])",
                    (database,),
                )
                terminated = cur.fetchone()[0]
                if terminated:
                    return terminated
                time.sleep(0.01)
    return 0


@pytest.mark.parametrize("empty_warehouse", ["postgres"], indirect=True)
def test_lost_postgres_connection_then_rerun(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    assert empty_warehouse.extract(run) == 0
    database = empty_warehouse.env["PGDATABASE"]
    interrupted = 0
    for _ in range(3):
        proc = empty_warehouse.start_extract("--force", run)
        interrupted += _terminate_when_loading(proc, database) > 0
        proc.communicate()
        code = proc.returncode
        # dlt either recovers on a new connection (0) or reports a destination error (3)
        assert code in (0, 3)
        if code == 0:
            assert_exact_raw(empty_warehouse)
        assert empty_warehouse.extract(run) == 0
        assert_exact_raw(empty_warehouse)
    assert interrupted >= 2
