"""Read-only access to the marts of either target as arrow record batches.

DuckDB is opened read-only in-process; Postgres is read through ADBC (binary COPY), never
row by row. `Marts` is opened per process: a DataLoader worker opens its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import quote

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import pyarrow as pa

from export.errors import WarehouseUnavailable
from extract.settings import TARGETS, PostgresSettings, duckdb_config, duckdb_path

BATCH_ROWS = 65_536  # rows per arrow batch read from DuckDB


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


class Marts:
    """A read-only connection to the warehouse of a target, querying schema `marts`."""

    def __init__(self, target: str) -> None:
        if target not in TARGETS:
            raise WarehouseUnavailable(
                f"unknown target {target!r}; choose one of {', '.join(TARGETS)}"
            )
        self.target = target
        self._duckdb: duckdb.DuckDBPyConnection | None = None
        self._postgres: adbc.Connection | None = None
        if target == "duckdb":
            path = duckdb_path()
            if not path.is_file():
                raise WarehouseUnavailable(
                    f"no DuckDB warehouse at {path} (TRACKING_DUCKDB_PATH): land files with "
                    "`python extract/run.py` and run `dbt build` first"
                )
            try:
                self._duckdb = duckdb.connect(str(path), read_only=True, config=duckdb_config())
            except (duckdb.Error, ValueError) as exc:
                raise WarehouseUnavailable(
                    f"cannot open the DuckDB warehouse {path}: {exc}"
                ) from exc
            self.where = str(path)
        else:
            settings = PostgresSettings.from_env()
            uri = (
                f"postgresql://{quote(settings.user, safe='')}:"
                f"{quote(settings.password, safe='')}@{settings.host}:{settings.port}/"
                f"{quote(settings.database, safe='')}"
            )
            try:
                self._postgres = adbc.connect(uri)
            except adbc.Error as exc:
                raise WarehouseUnavailable(
                    f"cannot connect to Postgres at {settings.describe()}: {exc} "
                    "(check PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE, and that the server runs)"
                ) from exc
            self.where = settings.describe()

    @contextlib.contextmanager
    def _reader(self, query: str) -> Iterator[pa.RecordBatchReader]:
        """A reader of a query's rows, open for the block."""
        try:
            if self._duckdb is not None:
                yield self._duckdb.sql(query).to_arrow_reader(BATCH_ROWS)
                return
            assert self._postgres is not None
            with contextlib.closing(self._postgres.cursor()) as cursor:
                cursor.execute(query)
                yield cursor.fetch_record_batch()
        except (duckdb.Error, adbc.Error) as exc:
            missing = "does not exist" in str(exc) or "Catalog Error" in str(exc)
            hint = " (has `dbt build` run on this warehouse?)" if missing else ""
            raise WarehouseUnavailable(
                f"reading the marts of {self.where} failed: {str(exc).strip()}{hint}"
            ) from exc

    def batches(self, query: str) -> Iterator[pa.RecordBatch]:
        """The rows of a query on the marts, as arrow record batches (never row by row)."""
        with self._reader(query) as reader:
            yield from reader

    def table(self, query: str) -> pa.Table:
        """The whole result of a query as one arrow table (its batches, not copied)."""
        with self._reader(query) as reader:
            return reader.read_all()

    def close(self) -> None:
        """Close the connection."""
        if self._duckdb is not None:
            self._duckdb.close()
        if self._postgres is not None:
            self._postgres.close()

    def __enter__(self) -> Marts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
