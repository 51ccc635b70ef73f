"""Fixtures: generated sample data and warehouses built from it on both targets."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from extract.samples.boids_3d import write_run_folder
from extract.settings import PostgresSettings
from grafana.set_password import set_password
from tests.samples import RUN_A, RUN_B, write_family_samples, write_tracking_sessions
from tests.warehouse import (
    TARGETS,
    Warehouse,
    built_warehouse_fixtures,
    new_warehouse,
    postgres_warehouse,
    require_postgres,
)


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the two sample 3D runs."""
    parent = tmp_path_factory.mktemp("runs")
    write_run_folder(parent, RUN_A)
    write_run_folder(parent, RUN_B)
    return parent


# The warehouses most modules read: the sample runs landed and built, once per session.
duckdb_built, postgres_built, built = built_warehouse_fixtures("sample_runs", scope="session")


@pytest.fixture(scope="module")
def tracking_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the generated tracking sessions A and B and the hand-written one."""
    return write_tracking_sessions(tmp_path_factory.mktemp("tracking"))


@pytest.fixture(params=TARGETS)
def empty_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh, empty warehouse of each target in turn."""
    with new_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


@pytest.fixture(scope="session")
def grafana_connection(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[psycopg2.extensions.connection]:
    """An autocommit connection as the Grafana role (as Grafana's queries run) to a Postgres
    warehouse of every family; the role is the one the dbt build created, its password set as
    grafana/set_password.py sets it."""
    require_postgres()
    samples = write_family_samples(tmp_path_factory.mktemp("grafana-samples"))
    with postgres_warehouse(tmp_path_factory.mktemp("grafana-postgres")) as warehouse:
        warehouse.build(samples)
        role, password = warehouse.env["GRAFANA_DB_USER"], f"pw-{uuid.uuid4().hex}"
        admin = dataclasses.replace(PostgresSettings.from_env(), database="postgres")
        set_password(role, password, admin)
        grafana = dataclasses.replace(admin, user=role, password=password)
        connection = psycopg2.connect(**grafana.connect_kwargs(warehouse.env["PGDATABASE"]))
        connection.autocommit = True
        with contextlib.closing(connection):
            yield connection
