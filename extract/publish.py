"""Publishing a run: dlt lands the run's tables in a schema of their own (`raw_load_<seq>`);
publishing merges them all into `raw` in one transaction, so a run lands whole or not at all."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import duckdb
import psycopg2

from extract.settings import RAW_SCHEMA
from extract.warehouse import DestinationError, HeldWarehouse

# A raw table's key: {"primary_key": column(s)} or {"merge_key": column}.
TableKey = Mapping[str, str | Sequence[str]]
# The schema a run's tables are landed in before they are published, and its name pattern.
RUN_SCHEMA_PREFIX = f"{RAW_SCHEMA}_load_"


def run_schema(load_seq: int) -> str:
    """The schema dlt lands a run's tables in."""
    return f"{RUN_SCHEMA_PREFIX}{load_seq}"


def drop_abandoned_runs(held: HeldWarehouse) -> None:
    """Drop the run schemas left by runs killed before they published (only the run holding
    the warehouse may call this: no other run is landing meanwhile)."""
    try:
        schemas = held.query(
            "select schema_name from information_schema.schemata "
            f"where left(schema_name, {len(RUN_SCHEMA_PREFIX)}) = '{RUN_SCHEMA_PREFIX}'"
        )
        for (schema,) in schemas:
            held.query(f'drop schema "{schema}" cascade')
    except (duckdb.Error, psycopg2.Error) as exc:
        raise DestinationError(f"cannot drop the tables of an abandoned run: {exc}") from exc


def discard_run(held: HeldWarehouse, schema: str) -> None:
    """Drop a run's schema if it is still there (the run failed before it was published);
    if that fails too, the next run drops it."""
    with contextlib.suppress(duckdb.Error, psycopg2.Error):
        held.query(f'drop schema if exists "{schema}" cascade')


def publish(
    held: HeldWarehouse,
    schema: str,
    keys: Mapping[str, TableKey],
    deletions: Sequence[tuple[str, str]] = (),
) -> None:
    """Merge the run's tables (those of `keys` that dlt created in `schema`) into `raw` and
    drop the run's schema, in one transaction. A table's rows replace the raw rows with the
    same key: its `primary_key` (rows with the same one in the run are taken once), or its
    `merge_key` (frames: every raw row of the run's episodes). A raw table is created, or
    gains the run's new columns, as needed. `deletions` (raw table, delete statement) run
    first, in the same transaction, on the raw tables that exist: the
    episodes a file landed again no longer holds."""
    step = "raw"
    try:
        with held.transaction():
            held.query(f"create schema if not exists {RAW_SCHEMA}")
            landed = _columns(held, schema)
            existing = _columns(held, RAW_SCHEMA)
            for table, statement in deletions:
                if table in existing:
                    step = f"{RAW_SCHEMA}.{table}"
                    held.query(statement)
            for table, columns in landed.items():
                if table in keys:
                    step = f"{RAW_SCHEMA}.{table}"
                    _merge(held, schema, table, columns, existing.get(table), keys[table])
            step = f"the run's tables ({schema})"
            held.query(f'drop schema "{schema}" cascade')
    except (duckdb.Error, psycopg2.Error) as exc:
        raise DestinationError(
            f"writing {step} failed, so the run was rolled back: {str(exc).strip()}"
        ) from exc


def _merge(
    held: HeldWarehouse,
    schema: str,
    table: str,
    columns: dict[str, str],
    existing: dict[str, str] | None,
    key: TableKey,
) -> None:
    """Merge one landed table into its raw table (see publish)."""
    source = f'"{schema}"."{table}"'
    target = f'{RAW_SCHEMA}."{table}"'
    if existing is None:
        held.query(f"create table {target} as select * from {source} where 1 = 0")
    for column, data_type in columns.items():
        if existing is not None and column not in existing:
            held.query(f'alter table {target} add column "{column}" {data_type}')
    unique = "primary_key" in key
    named = key.get("primary_key") or key["merge_key"]
    keys = ", ".join(f'"{k}"' for k in ([named] if isinstance(named, str) else named))
    held.query(f"delete from {target} where ({keys}) in (select distinct {keys} from {source})")
    names = ", ".join(f'"{c}"' for c in columns)
    held.query(
        f"insert into {target} ({names}) select {names} from "
        f"(select *, row_number() over (partition by {keys}) as run_row from {source}) as run "
        "where run_row = 1"
        if unique
        else f"insert into {target} ({names}) select {names} from {source}"
    )


def _columns(held: HeldWarehouse, schema: str) -> dict[str, dict[str, str]]:
    """table -> column -> SQL type (as a column definition takes it), of a schema's tables."""
    if held.target == "duckdb":
        statement = (
            "select table_name, column_name, data_type from information_schema.columns "
            f"where table_schema = '{schema}' order by table_name, ordinal_position"
        )
    else:
        statement = (
            "select c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "from pg_attribute a join pg_class c on c.oid = a.attrelid "
            "join pg_namespace n on n.oid = c.relnamespace "
            f"where n.nspname = '{schema}' and c.relkind in ('r', 'p', 'v') "
            "and a.attnum > 0 and not a.attisdropped order by c.relname, a.attnum"
        )
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in held.query(statement):
        tables.setdefault(table, {})[column] = data_type
    return tables
