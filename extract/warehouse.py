"""Connections to the warehouse for the extract stage: the Postgres database made when
missing, the connection an extract run holds for its whole run (one run at a time per
warehouse), and reads of the raw tables (what is landed, and what a family needs to know of
it)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

from extract.lake import Lake, LakeError
from extract.settings import RAW_SCHEMA, PostgresSettings, duckdb_path, extract_duckdb_config

# Postgres: the advisory lock an extract run holds on its own connection for its whole run
# (the two-key form: pg_locks shows them as classid, objid). Advisory locks are per database.
EXTRACT_LOCK = (0x7472_6163, 0x6B00_0001)
# DuckDB: how often a run waiting for the warehouse file tries to open it again (seconds).
DUCKDB_RETRY_SECONDS = 0.5


class DestinationError(Exception):
    """The warehouse could not be reached or written."""


@dataclass
class HeldWarehouse:
    """The connection an extract run holds for its whole run; while it is open no other
    extract run writes to the warehouse (DuckDB: the file's lock; Postgres: an advisory
    lock; Spark: the lake's lock, and `connection` reads the lake). Statements run in
    autocommit unless inside `transaction()`."""

    target: str
    connection: duckdb.DuckDBPyConnection | psycopg2.extensions.connection
    lake: Lake | None = None

    def query(self, statement: str) -> list[tuple]:
        """The rows of a statement ([] for one that returns none)."""
        return _rows(self.connection, statement)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        self.query("begin")
        try:
            yield
        except BaseException:
            with contextlib.suppress(duckdb.Error, psycopg2.Error):
                self.query("rollback")
            raise
        self.query("commit")


def _rows(
    connection: duckdb.DuckDBPyConnection | psycopg2.extensions.connection, statement: str
) -> list[tuple]:
    """The rows of a statement on a DuckDB or Postgres connection ([] for one that returns
    none)."""
    if isinstance(connection, duckdb.DuckDBPyConnection):
        result = connection.execute(statement)
        return result.fetchall() if result.description else []
    with connection.cursor() as cur:
        cur.execute(statement)
        return cur.fetchall() if cur.description else []


# The warehouse this process holds (hold_warehouse), which read_raw then reads through: a
# DuckDB file cannot be opened a second time by the process holding it.
_held: HeldWarehouse | None = None


@contextlib.contextmanager
def hold_warehouse(target: str, on_wait: Callable[[str], None]) -> Iterator[HeldWarehouse]:
    """Hold the warehouse for one extract run. While another process holds it (another
    extract; on DuckDB also a dbt build or any client with the file open), wait for it,
    calling `on_wait` with what we wait for."""
    global _held
    if target == "spark":
        lake = _open_lake()
        with lake.hold(on_wait), contextlib.closing(_lake_reader(lake)) as connection:
            _held = HeldWarehouse(target, connection, lake)
            try:
                yield _held
            finally:
                _held = None
        return
    opened = _open_duckdb(on_wait) if target == "duckdb" else _lock_postgres(on_wait)
    with contextlib.closing(opened) as connection:
        _held = HeldWarehouse(target, connection)
        try:
            yield _held
        finally:
            _held = None


def _open_lake() -> Lake:
    """The Spark target's lake (extract/lake.py)."""
    try:
        return Lake.open()
    except LakeError as exc:
        raise DestinationError(str(exc)) from exc


def _lake_reader(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB reading the lake's current raw rows."""
    try:
        return lake.reader()
    except LakeError as exc:
        raise DestinationError(str(exc)) from exc


def _open_duckdb(on_wait: Callable[[str], None]) -> duckdb.DuckDBPyConnection:
    """The warehouse file, opened for writing as soon as no other process has it open."""
    path = duckdb_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    waiting_for = None
    while True:
        try:
            return duckdb.connect(str(path), config=_duckdb_config())
        except duckdb.IOException as exc:
            holder = re.search(r"Conflicting lock is held in .*\(PID (\d+)\)", str(exc))
            if holder is None:
                raise DestinationError(f"cannot open the DuckDB warehouse {path}: {exc}") from exc
            if holder.group(1) != waiting_for:
                waiting_for = holder.group(1)
                on_wait(
                    f"the warehouse file {path} is in use by another process (pid {waiting_for}: "
                    f"{_command_of(int(waiting_for))}); waiting for it to finish..."
                )
            time.sleep(DUCKDB_RETRY_SECONDS)
        except duckdb.Error as exc:
            raise DestinationError(f"cannot open the DuckDB warehouse {path}: {exc}") from exc


def _duckdb_config() -> dict[str, str]:
    """The settings of the extract's DuckDB connections (extract_duckdb_config); a bad memory
    limit is a DestinationError."""
    try:
        return extract_duckdb_config()
    except ValueError as exc:
        raise DestinationError(str(exc)) from exc


def _command_of(pid: int) -> str:
    """The command line of a local process, as far as it can be read."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "command unknown"
    return " ".join(w.decode(errors="replace") for w in words if w)[:200] or "command unknown"


def _lock_postgres(on_wait: Callable[[str], None]) -> psycopg2.extensions.connection:
    """A connection to the warehouse database holding the extract lock, taken as soon as no
    other extract run holds it."""
    settings = PostgresSettings.from_env()
    ensure_postgres_database(settings)
    name = f"tracking extract (pid {os.getpid()} on {socket.gethostname()})"
    try:
        conn = psycopg2.connect(**settings.connect_kwargs(), application_name=name[:63])
    except psycopg2.Error as exc:
        raise DestinationError(f"cannot connect to {settings.describe()}: {exc}") from exc
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s, %s)", EXTRACT_LOCK)
            if not cur.fetchone()[0]:
                cur.execute(
                    "select a.application_name, date_trunc('second', a.backend_start) "
                    "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
                    "where l.locktype = 'advisory' and l.granted and l.classid = %s "
                    "and l.objid = %s and l.database = "
                    "(select oid from pg_database where datname = current_database())",
                    EXTRACT_LOCK,
                )
                holder = cur.fetchone()
                who = f"{holder[0] or 'an unnamed client'}, since {holder[1]}" if holder else "?"
                on_wait(
                    f"another extract run is landing into {settings.describe()} ({who}); "
                    "waiting for it to finish..."
                )
                cur.execute("select pg_advisory_lock(%s, %s)", EXTRACT_LOCK)
    except psycopg2.Error as exc:
        conn.close()
        raise DestinationError(f"cannot lock {settings.describe()}: {exc}") from exc
    return conn


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
    exist yet. Read through the held warehouse when this process holds it."""
    names = ", ".join(f"'{table}'" for table in tables)
    exists = (
        "select count(*) from information_schema.tables "
        f"where table_schema = '{RAW_SCHEMA}' and table_name in ({names})"
    )

    def rows(run: Callable[[str], list[tuple]]) -> list[tuple]:
        return run(query) if run(exists)[0][0] == len(tables) else []

    if _held is not None and _held.target == target:
        try:
            return rows(_held.query)
        except (duckdb.Error, psycopg2.Error) as exc:
            raise DestinationError(f"cannot read the {target} warehouse: {exc}") from exc
    if target == "spark":
        with contextlib.closing(_lake_reader(_open_lake())) as conn:
            try:
                return rows(functools.partial(_rows, conn))
            except duckdb.Error as exc:
                raise DestinationError(f"cannot read the lake: {exc}") from exc
    if target == "duckdb":
        path = duckdb_path()
        if not path.exists():
            return []
        try:
            with duckdb.connect(str(path), read_only=True, config=_duckdb_config()) as conn:
                return rows(functools.partial(_rows, conn))
        except duckdb.Error as exc:
            raise DestinationError(f"cannot read the DuckDB warehouse {path}: {exc}") from exc
    settings = PostgresSettings.from_env()
    ensure_postgres_database(settings)
    try:
        with contextlib.closing(psycopg2.connect(**settings.connect_kwargs())) as conn:
            return rows(functools.partial(_rows, conn))
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
            with duckdb.connect(str(path), config=_duckdb_config()) as conn:
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
