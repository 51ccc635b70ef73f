"""The Spark target: the same files landed in a lake (`--target spark`) and built with `dbt
build --target spark` on a local Spark give the marts DuckDB gives, row for row; landing them
again changes nothing; and a changed file, built on a standalone cluster (a master and a worker
the test starts), replaces exactly its episode, in the lake and in the marts. Two Spark builds in
all (each pays Spark's start-up). Skipped only where pyspark or Java is missing, and then a
failure in CI (`CI=true`)."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.ids import stable_id
from extract.lake import Lake
from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.samples import RUN_3D, write_family_samples
from tests.source_facts import episode_files
from tests.spark_cluster import spark_cluster
from tests.warehouse import (
    ANALYTICS_MARTS,
    MARTS,
    Warehouse,
    duckdb_warehouse,
    environment,
    rows_match,
    spark_warehouse,
    table_contents,
)


def spark_missing() -> str | None:
    """Why Spark cannot run here, if it cannot."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e .)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (java on PATH or JAVA_HOME), which Spark needs"
    return None


def require_spark() -> None:
    """Skip when Spark cannot run; in CI (CI=true) fail instead."""
    reason = spark_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Spark tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small session of every source family."""
    return write_family_samples(tmp_path_factory.mktemp("spark-samples"))


@pytest.fixture(scope="module")
def duckdb_built(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    with duckdb_warehouse(tmp_path_factory.mktemp("duckdb")) as warehouse:
        warehouse.build(samples)
        yield warehouse


@pytest.fixture(scope="module")
def spark_built(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    require_spark()
    with spark_warehouse(tmp_path_factory.mktemp("spark")) as warehouse:
        warehouse.build(samples)
        yield warehouse


def assert_same_as_duckdb(spark: Warehouse, duck: Warehouse, mart: str) -> None:
    """The mart holds rows, and the same columns (Spark puts a table's partition column,
    episode_id, last) and rows on both (the analytics marts' floats within FLOAT_TOLERANCE)."""
    duck_columns, duck_rows = table_contents(duck, mart)
    spark_columns, spark_rows = table_contents(spark, mart, duck_columns)
    assert sorted(spark_columns) == sorted(duck_columns)
    assert len(duck_rows) > 0
    assert len(spark_rows) == len(duck_rows)
    approximate = mart in ANALYTICS_MARTS
    for spark_row, duck_row in zip(spark_rows, duck_rows, strict=True):
        assert rows_match(spark_row, duck_row, approximate), (mart, spark_row, duck_row)


@pytest.mark.parametrize("mart", sorted(MARTS))
def test_mart_identical_to_duckdb(
    spark_built: Warehouse, duckdb_built: Warehouse, mart: str
) -> None:
    assert_same_as_duckdb(spark_built, duckdb_built, mart)


def test_failed_build_leaves_the_previous_table(spark_built: Warehouse) -> None:
    """A table model that fails (here: a frame rate var naming no column) leaves the table of
    the previous build as it was (macros/spark_table.sql), and nothing half-built."""
    before = table_contents(spark_built, "episodes")
    failed = spark_built.dbt(
        "run", "--select", "episodes", "--vars", "{default_frame_rate: no_such_column}", check=False
    )
    assert failed.returncode == 1
    assert "no_such_column" in failed.stdout
    assert table_contents(spark_built, "episodes") == before
    marts = Path(spark_built.env["TRACKING_SPARK_WAREHOUSE"]) / "marts.db"
    assert sorted(p.name for p in marts.glob("episodes*")) == ["episodes"]


def lake_files(warehouse: Warehouse, table: str) -> list[str]:
    """The parquet files of a raw table in the warehouse's lake."""
    root = Path(warehouse.env["TRACKING_LAKE"]) / "raw" / table
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet"))


def raw_rows(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """The current rows of every raw table of the warehouse's lake, in order; without a
    rollout session's `dataset_source`, which says where its 2D dataset was read (its file on
    the first run, the warehouse on the next: on every target)."""
    with environment(warehouse.env), contextlib.closing(Lake.open().reader()) as conn:
        columns: dict[str, list[str]] = {}
        for table, column in conn.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name not like '\\_%' escape '\\' "
            "and column_name <> 'dataset_source' order by table_name, ordinal_position"
        ).fetchall():
            columns.setdefault(table, []).append(f'"{column}"')
        return {
            table: conn.execute(
                f'select {", ".join(names)} from raw."{table}" order by all'
            ).fetchall()
            for table, names in columns.items()
        }


def observations_by_episode(warehouse: Warehouse) -> dict[int, list[tuple]]:
    """The observations mart, per episode."""
    found: dict[int, list[tuple]] = {}
    for row in warehouse.query(
        "select episode_id, observation_id, x, y, z, v_x, v_y, v_z from marts.observations "
        "order by episode_id, observation_id"
    ):
        found.setdefault(row[0], []).append(row)
    return found


def test_rerun_changes_nothing_and_a_changed_file_replaces_its_episode_on_a_cluster(
    spark_built: Warehouse, duckdb_built: Warehouse, samples: Path, tmp_path: Path
) -> None:
    """Runs last in this module: it changes the sample files both warehouses were built from.
    The second build runs on a standalone cluster (a master and a worker this test starts and
    stops), its tasks in the worker's executor, a process of its own: the same warehouse
    (metastore, tables, lake), moved from `local[2]` to a cluster by SPARK_MASTER alone."""
    run = samples / f"{RUN_3D.prefix}-started-{RUN_3D.started}"
    frames_before = lake_files(spark_built, "boids_3d_frames")
    raw_before = raw_rows(spark_built)
    observations_before = observations_by_episode(spark_built)

    # the same files again: every file skipped, the lake's rows and frame files unchanged
    assert spark_built.extract(samples) == 0
    assert raw_rows(spark_built) == raw_before
    assert lake_files(spark_built, "boids_3d_frames") == frames_before

    # episode 1 of the 3D run re-simulated with another seed, under the same file name
    other = write_run_folder(
        tmp_path, RunSpec(num_episodes=2, num_frames=25, num_agents=4, seed=99)
    )
    shutil.copyfile(episode_files(other)[1], episode_files(run)[1])
    changed = stable_id("boids_3d", run.name, "1")
    duckdb_built.build(samples)
    with spark_cluster(tmp_path / "cluster") as master:
        on_cluster = dataclasses.replace(
            spark_built, env={**spark_built.env, "SPARK_MASTER": master}
        )
        on_cluster.build(samples)
    assert list((tmp_path / "cluster" / "work").glob("app-*/*/stderr")), (
        "no executor ran on the worker"
    )

    # the lake: the changed episode's frames partition holds one new file, the others as before
    frames_after = lake_files(spark_built, "boids_3d_frames")
    partition = f"episode_id={changed}/"
    assert [f for f in frames_after if not f.startswith(partition)] == [
        f for f in frames_before if not f.startswith(partition)
    ]
    assert len([f for f in frames_after if f.startswith(partition)]) == 1
    assert not set(frames_after) & {f for f in frames_before if f.startswith(partition)}

    # the marts: only that episode's observations changed (25 + 1 frames of 4 agents and the
    # target now), and every mart is DuckDB's again
    observations_after = observations_by_episode(spark_built)
    assert observations_after.keys() == observations_before.keys()
    for episode_id, rows in observations_after.items():
        if episode_id == changed:
            assert rows != observations_before[episode_id]
            assert len(rows) == 26 * 5
        else:
            assert rows == observations_before[episode_id]
    for mart in MARTS:
        assert_same_as_duckdb(spark_built, duckdb_built, mart)
