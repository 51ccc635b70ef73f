"""The dlt pipeline: lands arrow tables in the `raw` schema of DuckDB or Postgres, or in the
Spark target's lake (extract/lake.py), a run's tables all at once."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

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
from extract.lake import Lake, LakeError, dlt_schema, key_values_id, pieces
from extract.publish import TableKey, discard_run, drop_abandoned_runs, publish, run_schema
from extract.settings import RAW_SCHEMA, PostgresSettings
from extract.warehouse import DestinationError, HeldWarehouse, read_raw, write_raw

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
# Bookkeeping: one row per episode in the warehouse: the source file it was landed from (as
# landed_files names it), so that a file landed again replaces all its episodes and a removed
# file takes its episodes along; and the fingerprint of its session's row when it was last
# marked for building, so that a changed session marks its episodes for rebuild. Every row
# written here also writes the episode's episode_loads row.
LANDED_EPISODES = "landed_episodes"
# Not a table: episode ids (per family) whose rows are deleted after the data is landed, the
# episodes a file landed again no longer holds.
STALE_EPISODES = "stale_episodes"
# Not a table: landed_episodes rows of episodes marked for rebuild (their session changed).
# Their episode_loads rows are written with the data, the landed_episodes rows after it, so
# that a run killed in between marks them again.
MARKED_EPISODES = "marked_episodes"
# Each raw table's key (extract/publish.py): a changed row replaces the one with its key.
KEYS: dict[str, TableKey] = {
    **{table: keys for family in FAMILIES for table, keys in family.raw_tables.items()},
    EPISODE_LOADS: {"primary_key": "episode_id"},
    LANDED_FILES: {"primary_key": list(LANDED_FILES_KEY)},
    LANDED_EPISODES: {"primary_key": "episode_id"},
}
FileKey = tuple[str, str, str]


class LandedEpisode(NamedTuple):
    """A landed_episodes row: where an episode came from and its session's fingerprint."""

    episode_id: int
    family: str
    session_name: str
    file_name: str
    session_sha256: str


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


def landed_episodes(target: str) -> list[LandedEpisode]:
    """Every landed_episodes row."""
    columns = ", ".join(LandedEpisode._fields)
    rows = read_raw(
        target, f"select {columns} from {RAW_SCHEMA}.{LANDED_EPISODES}", [LANDED_EPISODES]
    )
    return [LandedEpisode(*row) for row in rows]


def file_key(session: Path, file: Path) -> str:
    """How the bookkeeping names a source file: its path inside the session folder (camera
    folders included), or its name when the file is the session itself (a 2D dataset)."""
    return (
        file.relative_to(session).as_posix()
        if file.is_relative_to(session) and file != session
        else file.name
    )


def landed_episodes_table(
    family: str, session: str, episodes: list[tuple[int, str]], session_sha256: str
) -> pa.Table:
    """landed_episodes rows for (episode id, file key) pairs of one session."""
    count = len(episodes)
    return pa.table(
        {
            "episode_id": pa.array([episode_id for episode_id, _ in episodes], pa.int64()),
            "family": pa.array([family] * count, pa.string()),
            "session_name": pa.array([session] * count, pa.string()),
            "file_name": pa.array([key for _, key in episodes], pa.string()),
            "session_sha256": pa.array([session_sha256] * count, pa.string()),
        }
    )


def stale_episodes_table(family: str, episode_ids: Iterable[int]) -> pa.Table:
    """A STALE_EPISODES item: episodes of a family to delete once the data is landed."""
    ids = sorted(episode_ids)
    return pa.table({"family": [family] * len(ids), "episode_id": pa.array(ids, pa.int64())})


@dataclass
class Removal:
    """Rows to delete from the raw tables: every row of some episodes (family -> episode ids),
    the session rows of sessions left without episodes (family -> session ids), and the
    landed_files records of files, so that loading them again lands them."""

    episodes: dict[str, set[int]] = field(default_factory=dict)
    sessions: dict[str, set[int]] = field(default_factory=dict)
    files: set[FileKey] = field(default_factory=set)


# (raw table, statement, parameters): a statement changing one raw table, skipped when the
# table does not exist (nothing of it to change).
RawStatement = tuple[str, str, tuple[object, ...]]


def removal_statements(removal: Removal) -> list[RawStatement]:
    """The deletes of a Removal's rows from the raw tables."""
    statements: list[RawStatement] = [
        (table, _delete_ids(table, column, ids), ()) for table, column, ids in _removed_ids(removal)
    ]
    match_key = " and ".join(f"{column} = %s" for column in LANDED_FILES_KEY)
    statements += [
        (LANDED_FILES, f"delete from {RAW_SCHEMA}.{LANDED_FILES} where {match_key}", key)
        for key in sorted(removal.files)
    ]
    return statements


def removal_partitions(removal: Removal) -> dict[str, set[int]]:
    """The lake partitions (table -> partition values) of a Removal's rows (extract/lake.py)."""
    partitions: dict[str, set[int]] = {}
    for table, _, ids in _removed_ids(removal):
        partitions.setdefault(table, set()).update(ids)
    if removal.files:
        partitions[LANDED_FILES] = {key_values_id(key) for key in removal.files}
    return partitions


def _removed_ids(removal: Removal) -> list[tuple[str, str, set[int]]]:
    """(raw table, id column, ids) of a Removal's episode and session rows."""
    families = {family.name: family for family in FAMILIES}
    removed: list[tuple[str, str, set[int]]] = []
    for name, ids in removal.episodes.items():
        if ids:
            family = families[name]
            tables = (family.frames_table, family.episodes_table, EPISODE_LOADS, LANDED_EPISODES)
            removed += [(table, "episode_id", ids) for table in tables]
    for name, ids in removal.sessions.items():
        if ids:
            removed.append((families[name].sessions_table, "session_id", ids))
    return removed


def delete(target: str, removal: Removal) -> None:
    """Delete the rows of a Removal from the raw tables, in one transaction (on the lake: one
    commit, holding the lake)."""
    if target == "spark":
        try:
            lake = Lake.open()
            with lake.hold(lambda message: print(f"waiting: {message}", flush=True)):
                lake.commit(time.time_ns() // 1000, {}, removal_partitions(removal))
                lake.vacuum()
        except LakeError as exc:
            raise DestinationError(str(exc)) from exc
        return
    statements = removal_statements(removal)
    if statements:
        write_raw(target, statements)


def _delete_ids(table: str, column: str, ids: Iterable[int]) -> str:
    """A delete of the rows of a raw table whose integer column is one of ids."""
    return (
        f"delete from {RAW_SCHEMA}.{table} where {column} in ({', '.join(map(str, sorted(ids)))})"
    )


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
    the largest single table. If reading any item raises, nothing is loaded. Each
    landed_episodes or MARKED_EPISODES item (landed_episodes rows of episodes marked for
    rebuild) also writes episode_loads rows (this run's load_seq); the episodes of
    STALE_EPISODES items are deleted in the same transaction.
    """
    counts = LandedCounts()
    load_seq = time.time_ns() // 1000
    stale: dict[str, set[int]] = {}

    def data() -> Iterator[tuple[str, pa.Table]]:
        for table_name, table in items:
            if table_name == STALE_EPISODES:
                families, ids = (table.column(c).to_pylist() for c in ("family", "episode_id"))
                for family, episode_id in zip(families, ids, strict=True):
                    stale.setdefault(family, set()).add(episode_id)
                continue
            raw_table = LANDED_EPISODES if table_name == MARKED_EPISODES else table_name
            counts.add(raw_table, table.num_rows)
            yield raw_table, table
            if table_name in (LANDED_EPISODES, MARKED_EPISODES):
                loads = _episode_loads(table, load_seq)
                counts.add(EPISODE_LOADS, loads.num_rows)
                yield EPISODE_LOADS, loads

    if held.lake is not None:
        _land_in_lake(held.lake, data(), load_seq, stale, on_loading)
        return counts
    drop_abandoned_runs(held)
    schema = run_schema(load_seq)
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
            hinted = (_hinted(table_name, table) for table_name, table in data())
            _run(pipeline, dlt.resource(hinted, name="raw"), on_loading)
            stale_rows = removal_statements(Removal(episodes=stale))
            publish(held, schema, KEYS, [(table, sql) for table, sql, _ in stale_rows])
        finally:
            discard_run(held, schema)
    return counts


def _land_in_lake(
    lake: Lake,
    items: Iterable[tuple[str, pa.Table]],
    load_seq: int,
    stale: dict[str, set[int]],
    on_loading: Callable[[], None],
) -> None:
    """land() on the Spark target: dlt writes the run's files into a folder of the run's own,
    then they are published into the lake's partition folders with one commit
    (extract/lake.py)."""
    run = run_schema(load_seq)
    try:
        lake.drop_abandoned_runs()
        with tempfile.TemporaryDirectory(prefix="tracking-dlt-") as workdir:
            pipeline = dlt.pipeline(
                pipeline_name="tracking_spark",
                pipelines_dir=workdir,
                destination=lake.destination(),
                dataset_name=run,
            )
            resource = dlt.resource(pieces(items, KEYS, load_seq), name="raw")
            _run(pipeline, resource, on_loading, dlt_schema())
        lake.publish(run, KEYS, load_seq, removal_partitions(Removal(episodes=stale)))
    except LakeError as exc:
        raise DestinationError(f"{exc}; nothing of this run is read") from exc


def _run(
    pipeline: dlt.Pipeline,
    resource: object,
    on_loading: Callable[[], None],
    schema: dlt.Schema | None = None,
) -> None:
    """Extract, normalize and load one resource; errors as InputFileError/DestinationError."""
    try:
        pipeline.extract(resource, loader_file_format=LOADER_FILE_FORMAT, schema=schema)
        on_loading()
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as exc:
        cause = exc.exception
        if exc.step == "extract" and cause is not None:
            raise _unwrap(cause) from None
        raise DestinationError(f"{exc.step} step failed: {cause}") from exc


def _hinted(table_name: str, table: pa.Table) -> object:
    """The table marked for dlt with its raw table's write hints."""
    hints = dlt.mark.make_hints(table_name=table_name, write_disposition="append")
    return dlt.mark.with_hints(table, hints, create_table_variant=True)


def _episode_loads(episodes: pa.Table, load_seq: int) -> pa.Table:
    """episode_loads rows for the episodes of a landed_episodes table."""
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
