"""Faults: an extract killed at any point, or losing its Postgres connection, then rerun,
ends with exactly the expected data; a failed dbt build leaves the previous marts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from extract.samples.boids3d import Boids3DSpec, write_run_folder
from extract.settings import REPO_ROOT, PostgresSettings
from tests.warehouse import Warehouse

SPEC = Boids3DSpec(num_episodes=4, num_frames=300, num_agents=20, seed=2, prefix="fault")
ROWS = 4 * 301 * 21


def start_extract(warehouse: Warehouse, *args: str | Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "extract" / "run.py"), "--target", warehouse.target]
        + [str(a) for a in args],
        env={**os.environ, **warehouse.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_exact_raw(warehouse: Warehouse) -> None:
    """Every row once: the expected counts, no duplicate entity, bookkeeping complete."""
    assert warehouse.scalar("select count(*) from raw.boids3d_frames") == ROWS
    assert (
        warehouse.scalar(
            "select count(*) from (select episode_id, time, id, type from raw.boids3d_frames "
            "group by 1, 2, 3, 4 having count(*) > 1) d"
        )
        == 0
    )
    for table, rows in (
        ("boids3d_episodes", 4),
        ("boids3d_sessions", 1),
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
        proc = start_extract(empty_warehouse, "--force", run)
        time.sleep(duration * fraction)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        assert empty_warehouse.extract(run) == 0
        assert_exact_raw(empty_warehouse)
    assert killed >= 3
    empty_warehouse.dbt("build")
    assert empty_warehouse.scalar("select count(*) from marts.observations") == ROWS


def _terminate_backends(database: str) -> int:
    settings = PostgresSettings.from_env()
    with contextlib.closing(psycopg2.connect(**settings.connect_kwargs("postgres"))) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (database,),
            )
            return cur.fetchone()[0]


@pytest.mark.parametrize("empty_warehouse", ["postgres"], indirect=True)
def test_lost_postgres_connection_then_rerun(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    assert empty_warehouse.extract(run) == 0
    database = empty_warehouse.env["PGDATABASE"]
    failures = 0
    for delay in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        proc = start_extract(empty_warehouse, "--force", run)
        time.sleep(delay)
        terminated = _terminate_backends(database)
        code = proc.wait()
        if terminated and code != 0:
            failures += 1
            assert code == 3  # a destination error, reported as such
        assert empty_warehouse.extract(run) == 0
        assert_exact_raw(empty_warehouse)
    assert failures >= 1


def test_failed_build_keeps_previous_marts(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", Boids3DSpec(num_frames=20, num_agents=3))
    empty_warehouse.build(run)
    before = {
        t: empty_warehouse.query(f"select * from marts.{t} order by 1")
        for t in ("sessions", "episodes", "observations")
    }
    # the raw frames lose a column the models need: the next build fails part-way
    statement = "alter table raw.boids3d_frames rename column y to y_lost"
    if empty_warehouse.target == "duckdb":
        import duckdb

        with duckdb.connect(empty_warehouse.env["TRACKING_DUCKDB_PATH"]) as conn:
            conn.execute(statement)
    else:
        from tests.warehouse import _pg_settings

        conn = psycopg2.connect(**_pg_settings(empty_warehouse.env).connect_kwargs())
        with conn, conn.cursor() as cur:
            cur.execute(statement)
        conn.close()
    result = empty_warehouse.dbt("build", "--full-refresh", check=False)
    assert result.returncode != 0
    for table, rows in before.items():
        assert empty_warehouse.query(f"select * from marts.{table} order by 1") == rows
