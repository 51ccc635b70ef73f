"""Fixtures: generated sample data and warehouses built from it on both targets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.warehouse import (
    REQUIRE_POSTGRES_VAR,
    Warehouse,
    duckdb_warehouse,
    postgres_unavailable_reason,
    postgres_warehouse,
)

# Two runs that between them exercise the quirks of real files (../shared/SOURCES.md).
RUN_A = RunSpec(
    num_episodes=2,
    num_frames=40,
    num_agents=6,
    num_targets=2,
    seed=11,
    prefix="flock-a",
    started="20250301-101500",
    target_creation_time=5,
)
RUN_B = RunSpec(
    num_episodes=1,
    num_frames=30,
    num_agents=4,
    num_targets=1,
    seed=23,
    prefix="flock-b",
    started="20250302-090000",
    spell_target_center="distance_to_target_center",
    closest_point_dtype="float32",
    scene_mesh=False,
)


def require_postgres() -> None:
    """Skip (or, with TRACKING_REQUIRE_POSTGRES=1 as in CI, fail) without a Postgres server."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_POSTGRES_VAR) == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def built_warehouse(target: str, workdir: Path, *paths: Path) -> Iterator[Warehouse]:
    """For fixtures: a fresh warehouse of the target with the paths landed and built."""
    if target == "postgres":
        require_postgres()
    factory = postgres_warehouse if target == "postgres" else duckdb_warehouse
    with factory(workdir) as warehouse:
        warehouse.build(*paths)
        yield warehouse


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the two sample run folders."""
    parent = tmp_path_factory.mktemp("runs")
    write_run_folder(parent, RUN_A)
    write_run_folder(parent, RUN_B)
    return parent


@pytest.fixture(scope="session")
def duckdb_built(
    tmp_path_factory: pytest.TempPathFactory, sample_runs: Path
) -> Iterator[Warehouse]:
    """A DuckDB warehouse with the sample runs landed and built."""
    yield from built_warehouse("duckdb", tmp_path_factory.mktemp("duckdb"), sample_runs)


@pytest.fixture(scope="session")
def postgres_built(
    tmp_path_factory: pytest.TempPathFactory, sample_runs: Path
) -> Iterator[Warehouse]:
    """A Postgres warehouse with the sample runs landed and built."""
    yield from built_warehouse("postgres", tmp_path_factory.mktemp("postgres"), sample_runs)


@pytest.fixture(params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest) -> Warehouse:
    """Each built warehouse in turn."""
    return request.getfixturevalue(f"{request.param}_built")


@pytest.fixture(params=["duckdb", "postgres"])
def empty_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh, empty warehouse of each target in turn."""
    if request.param == "postgres":
        require_postgres()
        with postgres_warehouse(tmp_path) as warehouse:
            yield warehouse
    else:
        with duckdb_warehouse(tmp_path) as warehouse:
            yield warehouse
