"""The Spark target's raw tables: parquet files in a lake (`TRACKING_LAKE`, a folder or any
fsspec URL), landed by dlt's filesystem destination and read by Spark as external tables.

Layout: `<lake>/raw/<table>/<column>=<value>/<load_seq>.<file_id>.parquet`, one folder per raw
table and partition. A table is partitioned by its key (`episode_id` for frames, episodes and
the episode bookkeeping, `session_id` for sessions); a table whose key has several columns
(`landed_files`) by `key_id`, the stable id of the key's values. The partition column is the
folder's, not the files'; each file holds its run's `load_seq` in the column `_load_seq`.

A parquet lake has no transactions, so a run commits by one write: after dlt has landed all
its files, the run writes `<lake>/raw/_lake_commits/<load_seq>.parquet`, the (table,
partition) pairs it wrote or deleted. The current rows of a table are those of the files whose
`_load_seq` is the newest committed one of their partition (a deleted partition's newest
commit has no files): files of a run that did not commit are never read, so a run lands whole
or not at all, and a rerun replaces what a killed run left. After committing, the run deletes
the files no longer current (`vacuum`). dbt reads the current rows through the views that
`on-run-start` creates (macros/lake.sql); the extract stage through `reader()`, the same views
in an in-memory DuckDB.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import dlt
import duckdb
import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dlt.common.destination import Destination

from extract.ids import stable_id
from extract.settings import RAW_SCHEMA, lake_url

# A raw table's key: {"primary_key": column(s)} or {"merge_key": column}.
TableKey = Mapping[str, str | Sequence[str]]
# The column of each file that names the run that wrote it.
LOAD_SEQ = "_load_seq"
# The partition column of a table whose key has several columns.
KEY_ID = "key_id"
# The commits: one file per run, (table_name, partition_value, load_seq, deleted) rows.
COMMITS = "_lake_commits"
# The current load of every (table, partition): the newest committed one.
CURRENT = "_lake_current"
# A dlt table of a run: `<raw table>@<partition value>`.
PIECE_SEPARATOR = "@"
# The extract's reads run in this process: cap DuckDB's memory as on the DuckDB target.
DUCKDB_CONFIG = {"memory_limit": "256MB"}


class LakeError(Exception):
    """The lake could not be read or written."""


def partition_column(key: TableKey) -> str:
    """The column a raw table is partitioned by: its key, or KEY_ID for a key of several."""
    named = key.get("primary_key") or key["merge_key"]
    return named if isinstance(named, str) else KEY_ID


def key_values_id(values: Sequence[object]) -> int:
    """KEY_ID of a row of a table with a key of several columns."""
    return stable_id(*(str(value) for value in values))


@dataclass
class Lake:
    """A lake location: its fsspec filesystem and the path of its raw folder in it."""

    url: str
    fs: fsspec.AbstractFileSystem = field(repr=False)
    root: str

    @classmethod
    def open(cls) -> Lake:
        """The lake `TRACKING_LAKE` names (created when missing)."""
        url = lake_url()
        try:
            fs, path = fsspec.core.url_to_fs(url)
            root = f"{path.rstrip('/')}/{RAW_SCHEMA}"
            fs.makedirs(path, exist_ok=True)
        except (OSError, ValueError, ImportError) as exc:
            raise LakeError(
                f"cannot open the lake {url}: {exc} (check TRACKING_LAKE, and that this "
                "user may write there)"
            ) from exc
        return cls(url, fs, root)

    @property
    def local(self) -> bool:
        """Whether the lake is a folder of this machine."""
        return "file" in _protocols(self.fs)

    def uri(self, path: str) -> str:
        """A path of the lake as DuckDB and Spark take it."""
        return path if self.local else self.fs.unstrip_protocol(path)

    @contextlib.contextmanager
    def hold(self, on_wait: Callable[[str], None]) -> Iterator[None]:
        """One extract run at a time on a local lake: an exclusive lock on `<lake>/.lock`,
        holding the pid of its holder. (A remote lake has no lock: run one extract at a time.)"""
        if not self.local:
            yield
            return
        path = os.path.join(os.path.dirname(self.root), ".lock")
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                on_wait(
                    f"another extract run is landing into the lake {self.url} (pid {holder}); "
                    "waiting for it to finish..."
                )
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle, fcntl.LOCK_UN)

    def reader(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with a view `raw.<table>` of the current rows of each raw
        table of the lake (the tables dbt reads, as on-run-start registers them)."""
        conn = duckdb.connect(config=DUCKDB_CONFIG)
        try:
            if not self.local:
                conn.register_filesystem(self.fs)
            conn.execute(f"create schema {RAW_SCHEMA}")
            if not self._files(COMMITS, "*.parquet"):
                return conn
            conn.execute(
                f"create view {RAW_SCHEMA}.{CURRENT} as select table_name, partition_value, "
                f"max(load_seq) as load_seq from read_parquet('{self.uri(self.root)}/{COMMITS}/"
                "*.parquet') group by all"
            )
            for table, column in self.tables().items():
                files = f"{self.uri(self.root)}/{table}/*/*.parquet"
                conn.execute(
                    f'create view {RAW_SCHEMA}."{table}" as select * exclude ({LOAD_SEQ}) '
                    f"from read_parquet('{files}', hive_partitioning = true, "
                    f"union_by_name = true, hive_types = {{'{column}': 'bigint'}}) as f "
                    f"where exists (select 1 from {RAW_SCHEMA}.{CURRENT} as c "
                    f"where c.table_name = '{table}' and c.partition_value = f.{column} "
                    f"and c.load_seq = f.{LOAD_SEQ})"
                )
        except (duckdb.Error, OSError) as exc:
            conn.close()
            raise LakeError(f"cannot read the lake {self.url}: {exc}") from exc
        return conn

    def tables(self) -> dict[str, str]:
        """table -> partition column, of the raw tables with files in the lake."""
        tables = {}
        for folder in self._listing(self.root):
            name = folder.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith(("_", ".")):
                continue
            partitions = [p.rstrip("/").rsplit("/", 1)[-1] for p in self._listing(folder)]
            named = [p.split("=", 1)[0] for p in partitions if "=" in p]
            if named and self._files(name, "*/*.parquet"):
                tables[name] = named[0]
        return tables

    def destination(self) -> Destination:
        """dlt's filesystem destination: a run lands in `<lake>/<run schema>/<table>@<value>/`,
        one folder per raw table and partition (see pieces), until it is published."""
        return dlt.destinations.filesystem(
            bucket_url=self.uri(os.path.dirname(self.root)), layout="{table_name}/{file_id}.{ext}"
        )

    def drop_abandoned_runs(self) -> None:
        """Delete the folders of runs killed before they were published (only the run holding
        the lake may call this)."""
        try:
            for folder in self._listing(os.path.dirname(self.root)):
                if folder.rstrip("/").rsplit("/", 1)[-1].startswith(f"{RAW_SCHEMA}_load_"):
                    self.fs.rm(folder, recursive=True)
        except OSError as exc:
            raise LakeError(f"cannot remove an abandoned run from {self.url}: {exc}") from exc

    def publish(
        self,
        run: str,
        keys: Mapping[str, TableKey],
        load_seq: int,
        deleted: Mapping[str, set[int]],
    ) -> None:
        """Publish a run landed in the folder `run`: move each of its files into its partition
        folder of `raw` (named by the run's load_seq), commit what it wrote and the partitions
        it deletes, then remove the files no longer current."""
        written: dict[str, set[int]] = {}
        try:
            for folder in self._listing(f"{os.path.dirname(self.root)}/{run}"):
                name = folder.rstrip("/").rsplit("/", 1)[-1]
                table, _, value = name.partition(PIECE_SEPARATOR)
                if table not in keys:
                    continue
                target = f"{self.root}/{table}/{partition_column(keys[table])}={value}"
                self.fs.makedirs(target, exist_ok=True)
                for path in self._listing(folder):
                    self.fs.mv(path, f"{target}/{load_seq}.{path.rsplit('/', 1)[-1]}")
                written.setdefault(table, set()).add(int(value))
        except OSError as exc:
            raise LakeError(f"cannot move the run's files into {self.root}: {exc}") from exc
        self.commit(load_seq, written, deleted)
        with contextlib.suppress(OSError):
            self.fs.rm(f"{os.path.dirname(self.root)}/{run}", recursive=True)
        self.vacuum()

    def commit(
        self, load_seq: int, written: Mapping[str, set[int]], deleted: Mapping[str, set[int]]
    ) -> None:
        """Write the run's commit, in one write (a temporary name, then renamed)."""
        rows = [(t, v, load_seq, False) for t, values in written.items() for v in values]
        rows += [(t, v, load_seq, True) for t, values in deleted.items() for v in values]
        if rows:
            self._write_commits(load_seq, rows)

    def _write_commits(self, name: int, rows: Sequence[tuple[str, int, int, bool]]) -> None:
        """A commit file `<name>.parquet` of (table, partition value, load_seq, deleted) rows."""
        columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
        types = (pa.string(), pa.int64(), pa.int64(), pa.bool_())
        names = ("table_name", "partition_value", "load_seq", "deleted")
        table = pa.table({n: pa.array(c, t) for n, c, t in zip(names, columns, types, strict=True)})
        folder = f"{self.root}/{COMMITS}"
        temporary = f"{folder}/.{name}.parquet.tmp"
        try:
            self.fs.makedirs(folder, exist_ok=True)
            with self.fs.open(temporary, "wb") as handle:
                pq.write_table(table, handle)
            self.fs.mv(temporary, f"{folder}/{name}.parquet")
        except OSError as exc:
            raise LakeError(f"cannot write the commit of the run to {self.url}: {exc}") from exc

    def vacuum(self) -> None:
        """Delete the files that are not current (superseded, deleted, or of runs that did not
        commit) and dlt's own bookkeeping, then compact the commits into one file. Only the
        run holding the lake may call this."""
        commits = self._commits()
        current = {(t, v): (seq,) for t, v, seq, _ in commits}
        try:
            for folder in self._listing(self.root):
                name = folder.rstrip("/").rsplit("/", 1)[-1]
                if name.startswith("_dlt") or name == "init":
                    self.fs.rm(folder, recursive=True)
                elif not name.startswith(("_", ".")):
                    self._vacuum_table(name, folder, current)
        except OSError as exc:
            raise LakeError(f"cannot remove superseded files from {self.url}: {exc}") from exc
        live = [row for row in commits if not row[3]]
        old = self._files(COMMITS, "*.parquet")
        if len(old) > 1 or len(live) < len(commits):
            self._write_commits(max(seq for _, _, seq, _ in commits) + 1, live)
            for path in old:
                self.fs.rm(path)

    def _vacuum_table(
        self, table: str, folder: str, current: Mapping[tuple[str, int], tuple[int]]
    ) -> None:
        """vacuum() of one table's partition folders."""
        for partition in self._listing(folder):
            value = partition.rstrip("/").rsplit("=", 1)[-1]
            seq = current.get((table, int(value)), (None,))[0] if value.isdigit() else None
            files = self._listing(partition)
            stale = [f for f in files if f.rsplit("/", 1)[-1].split(".", 1)[0] != str(seq)]
            if len(stale) == len(files):
                self.fs.rm(partition, recursive=True)
            else:
                for path in stale:
                    self.fs.rm(path)
        if not self._listing(folder):
            self.fs.rm(folder, recursive=True)

    def _commits(self) -> list[tuple[str, int, int, bool]]:
        """The newest commit of each (table, partition): (table, value, load_seq, deleted)."""
        files = self._files(COMMITS, "*.parquet")
        newest: dict[tuple[str, int], tuple[int, bool]] = {}
        for path in files:
            with self.fs.open(path, "rb") as handle:
                rows = pq.read_table(handle).to_pylist()
            for row in rows:
                found = (row["table_name"], row["partition_value"])
                if found not in newest or newest[found][0] < row["load_seq"]:
                    newest[found] = (row["load_seq"], row["deleted"])
        return [(t, v, seq, d) for (t, v), (seq, d) in newest.items()]

    def _files(self, table: str, pattern: str) -> list[str]:
        """The paths matching a pattern in a table's folder."""
        return sorted(self.fs.glob(f"{self.root}/{table}/{pattern}"))

    def _listing(self, folder: str) -> list[str]:
        """The entries of a folder ([] when it does not exist)."""
        try:
            return sorted(self.fs.ls(folder, detail=False))
        except FileNotFoundError:
            return []


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    """The protocol names of a filesystem."""
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def pieces(
    items: Iterable[tuple[str, pa.Table]], keys: Mapping[str, TableKey], load_seq: int
) -> Iterator[object]:
    """The (raw table, arrow table) items as dlt items, one per table and partition, named
    `<table>@<partition value>` (Lake.publish moves them into their partition folders), without
    the partition column and with the run's LOAD_SEQ. Rows with the same primary key in one
    run are taken once."""
    taken: set[tuple[str, int]] = set()
    for table_name, table in items:
        key = keys[table_name]
        column = partition_column(key)
        for value, piece in _split(table, key, column, load_seq):
            if "primary_key" in key:
                if (table_name, value) in taken:
                    continue
                taken.add((table_name, value))
                piece = piece.slice(0, 1)
            name = f"{table_name}{PIECE_SEPARATOR}{value}"
            hints = dlt.mark.make_hints(table_name=name, write_disposition="append")
            yield dlt.mark.with_hints(piece, hints, create_table_variant=True)


def dlt_schema() -> dlt.Schema:
    """The schema of a lake run: names kept as they are (a piece's name holds its partition)."""
    return dlt.Schema("tracking_lake", normalizers={"names": "direct"})


def _split(
    table: pa.Table, key: TableKey, column: str, load_seq: int
) -> Iterator[tuple[int, pa.Table]]:
    """(partition value, rows) of a table, without the partition column, with LOAD_SEQ."""
    if column == KEY_ID:
        named = key["primary_key"]
        values = zip(*(table.column(c).to_pylist() for c in named), strict=True)
        table = table.append_column(KEY_ID, pa.array(map(key_values_id, values), pa.int64()))
    table = table.append_column(LOAD_SEQ, pa.array([load_seq] * table.num_rows, pa.int64()))
    partitions = table.column(column)
    for value in pc.unique(partitions).to_pylist():
        yield value, table.filter(pc.equal(partitions, value)).drop_columns([column])
