"""Connections to the warehouse for the extract stage: the Postgres database made when
missing, and reads of the raw tables (what is landed, and what a family needs to know of it)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import duckdb
import psycopg2
from psycopg2 import sql

from extract.settings import RAW_SCHEMA, PostgresSettings, duckdb_path


class DestinationError(Exception):
    """The warehouse could not be reached or written."""


def ensure_postgres_database(settings: PostgresSettings) -> None:
    """Create the target database when it does not exist yet."""
    try:
        conn = psycopg2.connect(**settings.connect_kwargs("postgres"))
    except psycopg2.Error as exc:
        raise DestinationError(
            f"cannot connect to Postgres at {settings.describe()}: {exc}".strip()
            + " (check PGHOST/PGPORT/PGUSER/PGPASSWORD, and that the server runs)"
        ) from exc
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (settings.database,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("create database {}").format(sql.Identifier(settings.database)))
    except psycopg2.Error as exc:
        raise DestinationError(
            f"database {settings.database!r} does not exist and cannot be created: {exc}"
        ) from exc
    finally:
        conn.close()


def read_raw(target: str, query: str, tables: list[str]) -> list[tuple]:
    """The rows of a query on raw tables; [] when the warehouse or one of the tables does not
    exist yet."""
    names = ", ".join(f"'{table}'" for table in tables)
    exists = (
        "select count(*) from information_schema.tables "
        f"where table_schema = '{RAW_SCHEMA}' and table_name in ({names})"
    )
    if target == "duckdb":
        path = duckdb_path()
        if not path.exists():
            return []
        try:
            with duckdb.connect(str(path), read_only=True) as conn:
                if conn.execute(exists).fetchone()[0] < len(tables):
                    return []
                return conn.execute(query).fetchall()
        except duckdb.Error as exc:
            raise DestinationError(f"cannot read the DuckDB warehouse {path}: {exc}") from exc
    settings = PostgresSettings.from_env()
    ensure_postgres_database(settings)
    try:
        connection = psycopg2.connect(**settings.connect_kwargs())
        with contextlib.closing(connection) as conn, conn.cursor() as cur:
            cur.execute(exists)
            if cur.fetchone()[0] < len(tables):
                return []
            cur.execute(query)
            return cur.fetchall()
    except psycopg2.Error as exc:
        raise DestinationError(f"cannot read {settings.describe()}: {exc}") from exc


def write_raw(target: str, statements: Sequence[tuple[str, str, Sequence[object]]]) -> None:
    """Run (raw table, statement, parameters) triples in one transaction, skipping those whose
    table does not exist (nothing of it to change). Parameters are `%s` placeholders."""
    tables = f"select table_name from information_schema.tables where table_schema = '{RAW_SCHEMA}'"
    if target == "duckdb":
        path = duckdb_path()
        if not path.exists():
            return
        try:
            with duckdb.connect(str(path)) as conn:
                existing = {name for (name,) in conn.execute(tables).fetchall()}
                conn.execute("begin")
                for table, statement, parameters in statements:
                    if table in existing:
                        conn.execute(statement.replace("%s", "?"), list(parameters))
                conn.execute("commit")
        except duckdb.Error as exc:
            raise DestinationError(f"cannot write the DuckDB warehouse {path}: {exc}") from exc
        return
    settings = PostgresSettings.from_env()
    ensure_postgres_database(settings)
    try:
        connection = psycopg2.connect(**settings.connect_kwargs())
        with contextlib.closing(connection) as conn, conn, conn.cursor() as cur:
            cur.execute(tables)
            existing = {name for (name,) in cur.fetchall()}
            for table, statement, parameters in statements:
                if table in existing:
                    cur.execute(statement, tuple(parameters))
    except psycopg2.Error as exc:
        raise DestinationError(f"cannot write {settings.describe()}: {exc}") from exc
