"""Fixtures: generated sample data and warehouses built from it on both targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.samples.boids_3d import write_run_folder
from tests.samples import RUN_A, RUN_B, write_tracking_sessions
from tests.warehouse import TARGETS, Warehouse, built_warehouse_fixtures, new_warehouse


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
