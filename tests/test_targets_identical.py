"""The same input gives the same marts on DuckDB and Postgres, row for row."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.samples.boids_3d import write_run_folder
from tests.samples import RUN_B, write_family_samples
from tests.warehouse import MARTS, Warehouse, built_warehouse_fixtures, marts_identical_test


@pytest.fixture(scope="module")
def every_family(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two 3D sample runs and a session of every other family, rollouts included: every
    mart holds rows."""
    folder = tmp_path_factory.mktemp("every-family")
    write_run_folder(folder, RUN_B)
    return write_family_samples(folder)


duckdb_built, postgres_built, built = built_warehouse_fixtures("every_family")
test_mart_identical_on_both_targets = marts_identical_test(tuple(sorted(MARTS)))


def test_marts_schema_holds_only_marts(duckdb_built: Warehouse, postgres_built: Warehouse) -> None:
    for warehouse in (duckdb_built, postgres_built):
        tables = warehouse.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1"
        )
        assert [t for (t,) in tables] == sorted(MARTS)
