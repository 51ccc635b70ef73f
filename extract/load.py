"""The dlt pipeline: lands arrow tables in the `raw` schema of DuckDB or Postgres, a run's
tables all at once."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
# Memory bounded by a file, not by the run: dlt rotates its load files every 300,000 rows
# (else one file holds every frame of the run, read whole when loaded) and loads two at a time.
os.environ.setdefault("DATA_WRITER__FILE_MAX_ITEMS", "300000")
os.environ.setdefault("LOAD__WORKERS", "2")

import dlt
import pyarrow as pa
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from extract.errors import InputFileError
from extract.families import FAMILIES
from extract.publish import TableKey, discard_run, drop_abandoned_runs, publish, run_schema
from extract.settings import RAW_SCHEMA, PostgresSettings
from extract.warehouse import DestinationError, HeldWarehouse, read_raw

# dlt's load files are parquet on both targets: DuckDB reads them natively, and dlt loads them
# into Postgres through ADBC (binary COPY), much faster than its CSV path (docs/benchmarks.md).
LOADER_FILE_FORMAT = "parquet"
# Bookkeeping: one row per episode with the run that last landed it. dbt's incremental models
# rebuild exactly the episodes whose load_seq differs from the one they last built.
EPISODE_LOADS = "episode_loads"
# Bookkeeping: one row per source file landed, with its fingerprint, so that unchanged files
# are skipped when a folder is loaded again.
LANDED_FILES = "landed_files"
LANDED_FILES_KEY = ("family", "session_name", "file_name")
# Each raw table's key (extract/publish.py): a changed row replaces the one with its key.
KEYS: dict[str, TableKey] = {
    **{table: keys for family in FAMILIES for table, keys in family.raw_tables.items()},
    EPISODE_LOADS: {"primary_key": "episode_id"},
    LANDED_FILES: {"primary_key": list(LANDED_FILES_KEY)},
}
EPISODE_TABLES = frozenset(family.episodes_table for family in FAMILIES)
FileKey = tuple[str, str, str]


@dataclass
class LandedCounts:
    """Rows handed to dlt, per raw table."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def landed_fingerprints(target: str) -> dict[FileKey, str]:
    """(family, session name, file name) -> SHA-256 of every file the warehouse holds."""
    query = f"select family, session_name, file_name, file_sha256 from {RAW_SCHEMA}.{LANDED_FILES}"
    rows = read_raw(target, query, [LANDED_FILES])
    return {(family, session, file): sha for family, session, file, sha in rows}


def destination(held: HeldWarehouse) -> Destination:
    """The dlt destination for the held warehouse (on DuckDB, its very connection)."""
    if held.target == "duckdb":
        return dlt.destinations.duckdb(credentials=DuckDbCredentials(held.connection))
    settings = PostgresSettings.from_env()
    credentials = {
        "host": settings.host,
        "port": settings.port,
        "username": settings.user,
        "password": settings.password,
        "database": settings.database,
    }
    return dlt.destinations.postgres(credentials=credentials)


def land(
    held: HeldWarehouse,
    items: Iterable[tuple[str, pa.Table]],
    on_loading: Callable[[], None] = lambda: None,
) -> LandedCounts:
    """Land (raw table, arrow table) items, all or nothing: dlt loads them into a schema of
    the run's own, then they are published into `raw` in one transaction (extract/publish.py).

    Items are pulled one at a time and written to dlt's load files, so memory is bounded by
    the largest single table. If reading any item raises, nothing is loaded.
    """
    counts = LandedCounts()
    load_seq = time.time_ns() // 1000
    drop_abandoned_runs(held)
    schema = run_schema(load_seq)

    def data() -> Iterator[object]:
        for table_name, table in items:
            yield _hinted(table_name, table, counts)
            if table_name in EPISODE_TABLES:
                yield _hinted(EPISODE_LOADS, _episode_loads(table, load_seq), counts)

    # A throw-away working folder: the warehouse itself is the only state, so a killed run
    # leaves no half-done package behind to be replayed later.
    with tempfile.TemporaryDirectory(prefix="tracking-dlt-") as workdir:
        pipeline = dlt.pipeline(
            pipeline_name=f"tracking_{held.target}",
            pipelines_dir=workdir,
            destination=destination(held),
            dataset_name=schema,
        )
        try:
            _run(pipeline, dlt.resource(data, name="raw"), on_loading)
            publish(held, schema, KEYS)
        finally:
            discard_run(held, schema)
    return counts


def _run(pipeline: dlt.Pipeline, resource: object, on_loading: Callable[[], None]) -> None:
    """Extract, normalize and load one resource; errors as InputFileError/DestinationError."""
    try:
        pipeline.extract(resource, loader_file_format=LOADER_FILE_FORMAT)
        on_loading()
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as exc:
        cause = exc.exception
        if exc.step == "extract" and cause is not None:
            raise _unwrap(cause) from None
        raise DestinationError(f"{exc.step} step failed: {cause}") from exc


def _hinted(table_name: str, table: pa.Table, counts: LandedCounts) -> object:
    """The table marked for dlt with its raw table's write hints."""
    counts.add(table_name, table.num_rows)
    hints = dlt.mark.make_hints(table_name=table_name, write_disposition="append")
    return dlt.mark.with_hints(table, hints, create_table_variant=True)


def _episode_loads(episodes: pa.Table, load_seq: int) -> pa.Table:
    """episode_loads rows for the episodes of a family's episodes table."""
    ids = episodes.column("episode_id")
    return pa.table(
        {
            "episode_id": ids,
            "load_seq": pa.array([load_seq] * len(ids), pa.int64()),
        }
    )


def _unwrap(exc: BaseException) -> BaseException:
    """The reader's own error (InputFileError) from inside dlt's resource wrappers, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, InputFileError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc
