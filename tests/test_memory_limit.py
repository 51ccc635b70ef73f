"""DuckDB's memory limit (TRACKING_DUCKDB_MEMORY_LIMIT) reaches every DuckDB connection of the
project, and a build under a small limit, its incremental models built one episode per batch,
gives the same marts as the default build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from export.errors import WarehouseUnavailable
from export.warehouse import Marts
from extract.settings import MEMORY_LIMIT_VAR, size_bytes
from extract.warehouse import hold_warehouse
from tests.warehouse import PRODUCTION_BUILD, Warehouse, assert_same_marts, duckdb_warehouse

# The sample runs build within 32MB (DuckDB shows 30.5 MiB); at 8MB DuckDB runs out of memory,
# which shows that the limit binds.
SMALL_LIMIT, SMALL_SHOWN = "32MB", "30.5 MiB"
TOO_SMALL = "8MB"
ONE_PER_BATCH = ("--vars", "{duckdb_batch_episodes: 1}")


def shown_settings(warehouse: Warehouse) -> dict[str, str]:
    """DuckDB's memory_limit and temp_directory as dbt's connection to the warehouse has them."""
    result = warehouse.dbt(
        "show",
        "--inline",
        "select current_setting('memory_limit') as memory_limit, "
        "current_setting('temp_directory') as temp_directory",
        "--output",
        "json",
    )
    shown = re.search(r'^\{\n  "show".*?^\}', result.stdout, re.MULTILINE | re.DOTALL)
    assert shown is not None, result.stdout[-2000:]
    return json.loads(shown.group(0))["show"][0]


def test_limit_reaches_dbt(duckdb_built: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    path = duckdb_built.env["TRACKING_DUCKDB_PATH"]
    monkeypatch.delenv(MEMORY_LIMIT_VAR, raising=False)
    assert shown_settings(duckdb_built) == {
        "memory_limit": "3.7 GiB",  # the default 4GB
        "temp_directory": f"{path}.tmp",
    }
    monkeypatch.setenv(MEMORY_LIMIT_VAR, SMALL_LIMIT)
    assert shown_settings(duckdb_built)["memory_limit"] == SMALL_SHOWN


def memory_limit_of_extract() -> str:
    with hold_warehouse("duckdb", lambda _: None) as held:
        return held.query("select current_setting('memory_limit')")[0][0]


def test_limit_reaches_extract_and_export(
    duckdb_built: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKING_DUCKDB_PATH", str(tmp_path / "extract.duckdb"))
    monkeypatch.setenv(MEMORY_LIMIT_VAR, SMALL_LIMIT)
    assert memory_limit_of_extract() == SMALL_SHOWN
    # above the extract's own 256MB cap the extract keeps its cap
    monkeypatch.setenv(MEMORY_LIMIT_VAR, "2GiB")
    assert memory_limit_of_extract() == "244.1 MiB"

    monkeypatch.setenv("TRACKING_DUCKDB_PATH", duckdb_built.env["TRACKING_DUCKDB_PATH"])
    monkeypatch.setenv(MEMORY_LIMIT_VAR, SMALL_LIMIT)
    with Marts("duckdb") as marts:
        rows = marts.table(
            "select current_setting('memory_limit') as m, current_setting('temp_directory') as t"
        ).to_pylist()
    assert rows == [{"m": SMALL_SHOWN, "t": duckdb_built.env["TRACKING_DUCKDB_PATH"] + ".tmp"}]


def test_bad_limit_is_refused(
    duckdb_built: Warehouse,
    sample_runs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_VAR, "lots")
    with duckdb_warehouse(tmp_path) as warehouse:
        assert warehouse.extract(sample_runs) == 3
    error = capsys.readouterr().err
    assert "TRACKING_DUCKDB_MEMORY_LIMIT='lots' is not a memory size" in error
    assert "nothing was landed" in error
    monkeypatch.setenv("TRACKING_DUCKDB_PATH", duckdb_built.env["TRACKING_DUCKDB_PATH"])
    with pytest.raises(WarehouseUnavailable, match="TRACKING_DUCKDB_MEMORY_LIMIT='lots'"):
        Marts("duckdb")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4GB", 4 * 10**9), ("2GiB", 2 * 1024**3), ("512 mb", 512 * 10**6), ("1.5G", 15 * 10**8)],
)
def test_size_bytes(text: str, expected: int) -> None:
    assert size_bytes(text) == expected


def test_small_limit_builds_the_same_marts(
    duckdb_built: Warehouse, sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_VAR, TOO_SMALL)
    with duckdb_warehouse(tmp_path / "too-small") as warehouse:
        assert warehouse.extract(sample_runs) == 0
        failed = warehouse.dbt(*PRODUCTION_BUILD, check=False)
    assert failed.returncode != 0
    assert "Out of Memory Error" in failed.stdout

    monkeypatch.setenv(MEMORY_LIMIT_VAR, SMALL_LIMIT)
    with duckdb_warehouse(tmp_path / "small") as warehouse:
        warehouse.build(sample_runs)
        assert_same_marts(warehouse, duckdb_built)
        episodes = warehouse.scalar("select count(*) from marts.episodes")
        assert episodes == 3
        # one episode per batch: a full build in three batches for each incremental model
        warehouse.dbt_build("--full-refresh", *ONE_PER_BATCH)
        assert_same_marts(warehouse, duckdb_built)
        built = warehouse.query(
            "select model_name, count(*) from intermediate.incremental_state group by 1"
        )
        assert {"observations", "extended_properties", "pairwise_frame_stats"} <= {
            name for name, _ in built
        }
        assert {count for _, count in built} == {episodes}
        # an incremental build of two episodes, one per batch: their rows are built again
        two = "select episode_id from marts.episodes order by episode_id limit 2"
        warehouse.execute(f"delete from intermediate.incremental_state where episode_id in ({two})")
        warehouse.execute(f"delete from marts.pairwise_frame_stats where episode_id in ({two})")
        warehouse.dbt_build(*ONE_PER_BATCH)
        assert_same_marts(warehouse, duckdb_built)
        left = warehouse.query(
            "select table_name from information_schema.tables "
            "where table_name in ('build_batch', 'build_batches')"
        )
        assert left == []
