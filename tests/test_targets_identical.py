"""The same input gives the same marts on DuckDB and Postgres, row for row."""

from __future__ import annotations

from tests.warehouse import MARTS, Warehouse, marts_identical_test

test_mart_identical_on_both_targets = marts_identical_test(tuple(sorted(MARTS)))


def test_marts_schema_holds_only_marts(duckdb_built: Warehouse, postgres_built: Warehouse) -> None:
    for warehouse in (duckdb_built, postgres_built):
        tables = warehouse.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1"
        )
        assert [t for (t,) in tables] == sorted(MARTS)
