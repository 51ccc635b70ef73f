"""Test helpers: a real warehouse (DuckDB file or Postgres database) driven through the real
extract CLI and the real dbt CLI, the fixtures that build one per target, and the comparison
of the marts of two warehouses."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest
from psycopg2 import sql

from extract.cli import main as extract_main
from extract.settings import REPO_ROOT, PostgresSettings
from extract.temporary import temporarily_set

DBT = str(Path(sys.executable).with_name("dbt"))
# `make build`: models, seeds and data tests. dbt's unit tests check the SQL on fixed inputs,
# not the data: tests/test_dbt_unit_tests.py runs them once per target.
PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test")
REQUIRE_POSTGRES_VAR = "TRACKING_REQUIRE_POSTGRES"
TARGETS = ("duckdb", "postgres")


def environment(values: dict[str, str]) -> contextlib.AbstractContextManager[None]:
    """Set environment variables for the duration of a block."""
    return temporarily_set(os.environ, values)


@dataclass
class Warehouse:
    """One warehouse of one target, with its own database and dbt artefact folders."""

    target: str
    env: dict[str, str]
    workdir: Path
    dbt_runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def extract(self, *args: str | Path) -> int:
        """Run `python extract/run.py --target <target> ARGS` in-process; the exit status."""
        with environment(self.env):
            return extract_main(["--target", self.target, *map(str, args)])

    def command(self, command: str, *args: str | Path) -> int:
        """Run `python extract/run.py COMMAND --target <target> ARGS` (remove, sync)
        in-process; the exit status."""
        with environment(self.env):
            return extract_main([command, "--target", self.target, *map(str, args)])

    def start_extract(self, *args: str | Path) -> subprocess.Popen[str]:
        """Start `python extract/run.py --target <target> ARGS` as a process of its own (its
        output piped)."""
        return subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "extract" / "run.py"), "--target", self.target]
            + [str(a) for a in args],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def dbt_command(self, *args: str, target_path: Path | None = None) -> list[str]:
        """The dbt CLI command against this warehouse; its artefacts go to `target_path` (by
        default the warehouse's own dbt-target folder, which the next command overwrites)."""
        return [
            DBT,
            *args,
            "--target",
            self.target,
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
            "--target-path",
            str(target_path or self.workdir / "dbt-target"),
            "--log-path",
            str(self.workdir / "dbt-logs"),
        ]

    def start_dbt(self, *args: str, target_path: Path) -> subprocess.Popen[str]:
        """Start the dbt CLI as a process of its own (its output piped)."""
        return subprocess.Popen(
            self.dbt_command(*args, target_path=target_path),
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def dbt(
        self, *args: str, check: bool = True, target_path: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the dbt CLI against this warehouse (see dbt_command)."""
        result = subprocess.run(
            self.dbt_command(*args, target_path=target_path),
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )
        self.dbt_runs.append(result)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
        return result

    def dbt_build(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The production `dbt build` (as `make build`) with extra arguments."""
        return self.dbt(*PRODUCTION_BUILD, *args)

    def build(self, *paths: Path) -> None:
        """Extract the paths, then the production `dbt build`."""
        assert self.extract(*paths) == 0
        self.dbt_build()

    def query(self, statement: str) -> list[tuple]:
        """Rows of a query (Spark: on its tables' parquet files, spark_tables)."""
        if self.target == "spark":
            with contextlib.closing(spark_tables(self.env)) as conn:
                return conn.execute(statement).fetchall()
        if self.target == "duckdb":
            with duckdb.connect(self.env["TRACKING_DUCKDB_PATH"], read_only=True) as conn:
                return conn.execute(statement).fetchall()
        connection = psycopg2.connect(**_pg_settings(self.env).connect_kwargs())
        with contextlib.closing(connection) as conn, conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()

    def execute(self, statement: str) -> None:
        """Run a writing statement and commit it."""
        if self.target == "duckdb":
            with duckdb.connect(self.env["TRACKING_DUCKDB_PATH"]) as conn:
                conn.execute(statement)
            return
        connection = psycopg2.connect(**_pg_settings(self.env).connect_kwargs())
        with contextlib.closing(connection) as conn, conn, conn.cursor() as cur:
            cur.execute(statement)

    def run_results(self) -> list[dict[str, object]]:
        """The node results of the last dbt command (its run_results.json)."""
        path = self.workdir / "dbt-target" / "run_results.json"
        return json.loads(path.read_text())["results"]

    def test_statuses(self, *args: str) -> dict[str, str]:
        """Run `dbt test ARGS` (failing or not); the status of each data test, by name."""
        self.dbt("test", *args, check=False)
        return {
            result["unique_id"].split(".")[2]: result["status"]
            for result in self.run_results()
            if result["unique_id"].startswith("test.")
        }

    def observation_id(self, episode: int, time_index: int, agent_type: str, agent_id: int) -> int:
        """The observation_id the observations mart holds for a natural key."""
        return self.scalar(
            f"select observation_id from marts.observations where episode_id = {episode} "
            f"and time_index = {time_index} and agent_type_id = '{agent_type}' "
            f"and agent_id = {agent_id}"
        )

    def scalar(self, statement: str) -> object:
        """The single value of a query."""
        rows = self.query(statement)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]


def _pg_settings(env: dict[str, str]) -> PostgresSettings:
    with environment(env):
        return PostgresSettings.from_env()


def postgres_unavailable_reason() -> str | None:
    """None when the configured Postgres server accepts connections, else why not."""
    settings = PostgresSettings.from_env()
    try:
        psycopg2.connect(**settings.connect_kwargs("postgres")).close()
    except psycopg2.Error as exc:
        return (
            f"no PostgreSQL server reachable at {settings.host}:{settings.port} as "
            f"{settings.user} ({str(exc).strip()}); set PGHOST/PGPORT/PGUSER/PGPASSWORD to run "
            f"the Postgres tests, or {REQUIRE_POSTGRES_VAR}=1 to make this a failure"
        )
    return None


def require_postgres() -> None:
    """Skip (or, with TRACKING_REQUIRE_POSTGRES=1 as in CI, fail) without a Postgres server."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_POSTGRES_VAR) == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def duckdb_warehouse(workdir: Path) -> Iterator[Warehouse]:
    """A warehouse in a fresh DuckDB file."""
    workdir.mkdir(parents=True, exist_ok=True)
    yield Warehouse("duckdb", {"TRACKING_DUCKDB_PATH": str(workdir / "warehouse.duckdb")}, workdir)


@contextlib.contextmanager
def postgres_warehouse(workdir: Path) -> Iterator[Warehouse]:
    """A warehouse in a fresh Postgres database, with a Grafana role of its own (roles are
    cluster-wide); both dropped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = PostgresSettings.from_env()
    name = f"tracking_test_{uuid.uuid4().hex[:12]}"
    role = f"grafana_{name}"
    admin = psycopg2.connect(**settings.connect_kwargs("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        yield Warehouse("postgres", {"PGDATABASE": name, "GRAFANA_DB_USER": role}, workdir)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.close()


@contextlib.contextmanager
def spark_warehouse(workdir: Path, master: str = "local[2]") -> Iterator[Warehouse]:
    """A Spark warehouse of its own: its lake, table folder and metastore in `workdir`, built on
    `master` (by default `local[2]`, this machine's two cores)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "TRACKING_LAKE": str(workdir / "lake"),
        "TRACKING_SPARK_WAREHOUSE": str(workdir / "tables"),
        "TRACKING_SPARK_METASTORE": str(workdir / "metastore"),
        "SPARK_MASTER": master,
    }
    yield Warehouse("spark", env, workdir)


def spark_tables(env: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view `<schema>.<table>` over the parquet files of each table
    of a Spark warehouse (TRACKING_SPARK_WAREHOUSE; partition folders read as columns): the
    tables as Spark wrote them, read without taking Spark's single-process metastore."""
    conn = duckdb.connect()
    for folder in sorted(Path(env["TRACKING_SPARK_WAREHOUSE"]).glob("*.db/*")):
        schema = folder.parent.name.removesuffix(".db")
        conn.execute(f"create schema if not exists {schema}")
        if any(folder.rglob("*.parquet")):
            conn.execute(
                f"create view {schema}.{folder.name} as select * from read_parquet("
                f"'{folder}/**/*.parquet', hive_partitioning = true)"
            )
    return conn


@contextlib.contextmanager
def new_warehouse(target: str, workdir: Path) -> Iterator[Warehouse]:
    """A fresh, empty warehouse of the target; for Postgres, see require_postgres."""
    if target == "postgres":
        require_postgres()
    factory = postgres_warehouse if target == "postgres" else duckdb_warehouse
    with factory(workdir) as warehouse:
        yield warehouse


def built_warehouse_fixtures(samples: str, scope: str = "module") -> tuple[Any, Any, Any]:
    """Fixtures for the warehouses a test module reads: `duckdb_built` and `postgres_built`, a
    warehouse of that target with the folder of the fixture named `samples` landed and built,
    and `built`, each of them in turn. A module assigns them to those names,

        duckdb_built, postgres_built, built = built_warehouse_fixtures("datasets")

    and its warehouses are built once for the module (pytest-xdist's loadscope keeps a module
    on one worker). conftest.py defines the default ones, built from the 3D sample runs once
    per session."""

    def warehouse_fixture(target: str) -> Any:
        @pytest.fixture(scope=scope, name=f"{target}_built")
        def fixture(
            request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Warehouse]:
            folder = request.getfixturevalue(samples)
            with new_warehouse(target, tmp_path_factory.mktemp(target)) as warehouse:
                warehouse.build(folder)
                yield warehouse

        return fixture

    @pytest.fixture(params=TARGETS, name="built")
    def each(request: pytest.FixtureRequest) -> Warehouse:
        return request.getfixturevalue(f"{request.param}_built")

    return warehouse_fixture("duckdb"), warehouse_fixture("postgres"), each


# Every mart, with its key order and the columns holding JSON (compared parsed: Postgres
# stores jsonb, which normalises key order and spacing).
MARTS = {
    "categories": ("category_id", ()),
    "agent_types": ("agent_type_id", ()),
    "property_definitions": ("property_id", ()),
    "property_category_mapping": ("property_id, category_id", ()),
    "sessions": ("session_id", ("config", "metadata")),
    "episodes": ("episode_id", ("metadata",)),
    "observations": ("observation_id", ()),
    "extended_properties": ("observation_id, property_id", ()),
    "observation_properties_wide": ("observation_id", ()),
    "frame_stats": ("episode_id, time_index", ()),
    "window_stats": ("episode_id, window_index, metric", ()),
    "spatial_occupancy": ("episode_id, bin_x, bin_y, bin_z", ()),
    "episode_summary": ("episode_id", ()),
    "pairwise_frame_stats": ("episode_id, time_index", ()),
    "agent_pair_velocity_correlation": (
        "episode_id, agent_type_id_a, agent_id_a, agent_type_id_b, agent_id_b",
        (),
    ),
    "agent_pair_distance_correlation": (
        "episode_id, agent_type_id_a, agent_id_a, agent_type_id_b, agent_id_b",
        (),
    ),
    "rollout_errors": ("episode_id, time_index", ()),
    "rollout_summary": ("session_id, horizon", ()),
}

# The marts a source family's rows land in, and the reference marts they point to: what a
# module with warehouses of one family compares across targets (tests/test_targets_identical.py
# compares every mart).
FAMILY_MARTS = (
    "categories",
    "agent_types",
    "property_definitions",
    "property_category_mapping",
    "sessions",
    "episodes",
    "observations",
    "extended_properties",
)


def table_contents(
    warehouse: Warehouse, name: str, columns: list[str] | None = None
) -> tuple[list[str], list[tuple]]:
    """A mart's column names and rows in key order, JSON columns parsed; `columns` in that
    order, else all of them in the table's order."""
    order, json_columns = MARTS[name]
    columns = columns or [
        row[0]
        for row in warehouse.query(
            "select column_name from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{name}' order by ordinal_position"
        )
    ]
    # JSON as text: Spark's VARIANT read from its parquet files through json
    text = (
        "cast(cast({} as json) as varchar)"
        if warehouse.target == "spark"
        else "cast({} as varchar)"
    )
    select = ", ".join(f"{text.format(c)} as {c}" if c in json_columns else c for c in columns)
    rows = warehouse.query(f"select {select} from marts.{name} order by {order}")
    positions = [columns.index(c) for c in json_columns if c in columns]
    parsed = [
        tuple(json.loads(v) if i in positions and v is not None else v for i, v in enumerate(row))
        for row in rows
    ]
    return columns, parsed


# Aggregates over floats (sums, means, standard deviations, quantiles, correlations) are
# computed in a different order on each target (and by numpy), so their floats agree within
# the tolerance stated in docs/architecture.md; integers, keys and text, and every other mart,
# are equal.
ANALYTICS_MARTS = {
    "frame_stats",
    "window_stats",
    "spatial_occupancy",
    "episode_summary",
    "pairwise_frame_stats",
    "agent_pair_velocity_correlation",
    "agent_pair_distance_correlation",
    "rollout_errors",
    "rollout_summary",
}
FLOAT_TOLERANCE = 1e-9  # |a - b| <= FLOAT_TOLERANCE * max(1, |a|, |b|)


def approx(value: object) -> object:
    """`value`, compared within FLOAT_TOLERANCE (pytest.approx)."""
    return pytest.approx(value, rel=FLOAT_TOLERANCE, abs=FLOAT_TOLERANCE)


def rows_match(duck: tuple, pg: tuple, approximate: bool) -> bool:
    """Rows are equal, floats within FLOAT_TOLERANCE when approximate."""
    if not approximate:
        return duck == pg
    return len(duck) == len(pg) and all(
        a == approx(b) if isinstance(a, float) and isinstance(b, float) else a == b
        for a, b in zip(duck, pg, strict=True)
    )


def assert_mart_identical(duck: Warehouse, pg: Warehouse, mart: str) -> None:
    """The mart holds rows, and the same columns and rows on both warehouses (the floats of
    the analytics marts within FLOAT_TOLERANCE)."""
    duck_columns, duck_rows = table_contents(duck, mart)
    pg_columns, pg_rows = table_contents(pg, mart)
    assert duck_columns == pg_columns
    assert len(duck_rows) > 0
    assert len(duck_rows) == len(pg_rows)
    approximate = mart in ANALYTICS_MARTS
    for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
        assert rows_match(duck_row, pg_row, approximate), (duck_row, pg_row)


def _without(
    columns: list[str], rows: list[tuple], dropped: set[str]
) -> tuple[list[str], list[tuple]]:
    kept = [i for i, c in enumerate(columns) if c not in dropped]
    return [columns[i] for i in kept], [tuple(row[i] for i in kept) for row in rows]


def assert_same_marts(
    warehouse: Warehouse, expected: Warehouse, ignore: dict[str, set[str]] | None = None
) -> None:
    """Every mart of `warehouse` holds the same columns and rows as in `expected` (the floats
    of the analytics marts within FLOAT_TOLERANCE), empty marts included, but for the columns
    `ignore` names per mart."""
    for mart in MARTS:
        columns, rows = table_contents(warehouse, mart)
        expected_columns, expected_rows = table_contents(expected, mart)
        if ignore and mart in ignore:
            columns, rows = _without(columns, rows, ignore[mart])
            expected_columns, expected_rows = _without(
                expected_columns, expected_rows, ignore[mart]
            )
        assert columns == expected_columns, mart
        assert len(rows) == len(expected_rows), mart
        approximate = mart in ANALYTICS_MARTS
        for row, expected_row in zip(rows, expected_rows, strict=True):
            assert rows_match(row, expected_row, approximate), (mart, row, expected_row)


def marts_identical_test(marts: tuple[str, ...] = FAMILY_MARTS) -> Any:
    """A test that each of the marts is identical on the module's `duckdb_built` and
    `postgres_built` (assert_mart_identical); a module collects it by assigning it to a name
    starting with test_."""

    @pytest.mark.parametrize("mart", marts)
    def test(duckdb_built: Warehouse, postgres_built: Warehouse, mart: str) -> None:
        assert_mart_identical(duckdb_built, postgres_built, mart)

    return test
