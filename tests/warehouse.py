"""Test helpers: a real warehouse (DuckDB file or Postgres database) driven through the real
extract CLI and the real dbt CLI."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

from extract.cli import main as extract_main
from extract.settings import REPO_ROOT, PostgresSettings
from extract.temporary import temporarily_set

DBT = str(Path(sys.executable).with_name("dbt"))
# `make build`: models, seeds and data tests. dbt's unit tests check the SQL on fixed inputs,
# not the data: tests/test_dbt_unit_tests.py runs them once per target.
PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test")
REQUIRE_POSTGRES_VAR = "TRACKING_REQUIRE_POSTGRES"


def environment(values: dict[str, str]) -> contextlib.AbstractContextManager[None]:
    """Set environment variables for the duration of a block."""
    return temporarily_set(os.environ, values)


@dataclass
class Warehouse:
    """One warehouse of one target, with its own database and dbt artefact folders."""

    target: str
    env: dict[str, str]
    workdir: Path
    dbt_runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def extract(self, *args: str | Path) -> int:
        """Run `python extract/run.py --target <target> ARGS` in-process; the exit status."""
        with environment(self.env):
            return extract_main(["--target", self.target, *map(str, args)])

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the dbt CLI against this warehouse."""
        command = [
            DBT,
            *args,
            "--target",
            self.target,
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
            "--target-path",
            str(self.workdir / "dbt-target"),
            "--log-path",
            str(self.workdir / "dbt-logs"),
        ]
        result = subprocess.run(
            command,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )
        self.dbt_runs.append(result)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
        return result

    def dbt_build(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The production `dbt build` (as `make build`) with extra arguments."""
        return self.dbt(*PRODUCTION_BUILD, *args)

    def build(self, *paths: Path) -> None:
        """Extract the paths, then the production `dbt build`."""
        assert self.extract(*paths) == 0
        self.dbt_build()

    def query(self, statement: str) -> list[tuple]:
        """Rows of a query."""
        if self.target == "duckdb":
            with duckdb.connect(self.env["TRACKING_DUCKDB_PATH"], read_only=True) as conn:
                return conn.execute(statement).fetchall()
        connection = psycopg2.connect(**_pg_settings(self.env).connect_kwargs())
        with contextlib.closing(connection) as conn, conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()

    def execute(self, statement: str) -> None:
        """Run a writing statement and commit it."""
        if self.target == "duckdb":
            with duckdb.connect(self.env["TRACKING_DUCKDB_PATH"]) as conn:
                conn.execute(statement)
            return
        connection = psycopg2.connect(**_pg_settings(self.env).connect_kwargs())
        with contextlib.closing(connection) as conn, conn, conn.cursor() as cur:
            cur.execute(statement)

    def run_results(self) -> list[dict[str, object]]:
        """The node results of the last dbt command (its run_results.json)."""
        path = self.workdir / "dbt-target" / "run_results.json"
        return json.loads(path.read_text())["results"]

    def test_statuses(self, *args: str) -> dict[str, str]:
        """Run `dbt test ARGS` (failing or not); the status of each data test, by name."""
        self.dbt("test", *args, check=False)
        return {
            result["unique_id"].split(".")[2]: result["status"]
            for result in self.run_results()
            if result["unique_id"].startswith("test.")
        }

    def scalar(self, statement: str) -> object:
        """The single value of a query."""
        rows = self.query(statement)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]


def _pg_settings(env: dict[str, str]) -> PostgresSettings:
    with environment(env):
        return PostgresSettings.from_env()


def postgres_unavailable_reason() -> str | None:
    """None when the configured Postgres server accepts connections, else why not."""
    settings = PostgresSettings.from_env()
    try:
        psycopg2.connect(**settings.connect_kwargs("postgres")).close()
    except psycopg2.Error as exc:
        return (
            f"no PostgreSQL server reachable at {settings.host}:{settings.port} as "
            f"{settings.user} ({str(exc).strip()}); set PGHOST/PGPORT/PGUSER/PGPASSWORD to run "
            f"the Postgres tests, or {REQUIRE_POSTGRES_VAR}=1 to make this a failure"
        )
    return None


@contextlib.contextmanager
def duckdb_warehouse(workdir: Path) -> Iterator[Warehouse]:
    """A warehouse in a fresh DuckDB file."""
    workdir.mkdir(parents=True, exist_ok=True)
    yield Warehouse("duckdb", {"TRACKING_DUCKDB_PATH": str(workdir / "warehouse.duckdb")}, workdir)


@contextlib.contextmanager
def postgres_warehouse(workdir: Path) -> Iterator[Warehouse]:
    """A warehouse in a fresh Postgres database, with a Grafana role of its own (roles are
    cluster-wide); both dropped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = PostgresSettings.from_env()
    name = f"tracking_test_{uuid.uuid4().hex[:12]}"
    role = f"grafana_{name}"
    admin = psycopg2.connect(**settings.connect_kwargs("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        yield Warehouse("postgres", {"PGDATABASE": name, "GRAFANA_DB_USER": role}, workdir)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.close()
