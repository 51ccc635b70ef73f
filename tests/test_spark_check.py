"""What a Spark build or extract does when its master cannot be reached or its folders cannot
be written: exit status 3 and a message naming the setting to check, before Spark starts
(`python -m extract.spark_check`, which `make build TARGET=spark` runs before dbt; and the
extract CLI for TRACKING_LAKE)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from extract.cli import main as extract_main
from extract.samples.boids_3d import write_run_folder
from extract.settings import REPO_ROOT
from tests.samples import RUN_3D
from tests.spark_cluster import free_port
from tests.warehouse import environment


def spark_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m extract.spark_check` with these settings."""
    return subprocess.run(
        [sys.executable, "-m", "extract.spark_check"],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def folders(root: Path) -> dict[str, str]:
    return {
        "TRACKING_SPARK_WAREHOUSE": str(root / "tables"),
        "TRACKING_SPARK_METASTORE": str(root / "metastore"),
    }


def test_reachable_master_and_writable_folders_pass(tmp_path: Path) -> None:
    result = spark_check({**folders(tmp_path), "SPARK_MASTER": "local[2]"})
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "tables").is_dir()
    assert not (tmp_path / "metastore").exists()  # Derby's to create


def test_unreachable_master_is_status_3(tmp_path: Path) -> None:
    master = f"spark://127.0.0.1:{free_port()}"
    result = spark_check({**folders(tmp_path), "SPARK_MASTER": master})
    assert result.returncode == 3
    assert f"cannot reach the Spark master {master}" in result.stderr
    assert "SPARK_MASTER" in result.stderr


def test_unwritable_folders_are_status_3(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = spark_check(
        {
            "SPARK_MASTER": "local[2]",
            "TRACKING_SPARK_WAREHOUSE": str(blocker / "tables"),
            "TRACKING_SPARK_METASTORE": str(blocker / "metastore" / "db"),
        }
    )
    assert result.returncode == 3
    assert f"cannot write in {blocker / 'tables'} (TRACKING_SPARK_WAREHOUSE)" in result.stderr
    assert f"cannot write in {blocker / 'metastore'} (TRACKING_SPARK_METASTORE)" in result.stderr


def test_extract_to_an_unwritable_lake_is_status_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    runs = tmp_path / "runs"
    write_run_folder(runs, RUN_3D)
    with environment({"TRACKING_LAKE": str(blocker / "lake")}):
        assert extract_main(["--target", "spark", str(runs)]) == 3
    error = capsys.readouterr().err
    assert f"cannot open the lake {blocker / 'lake'}" in error
    assert "check TRACKING_LAKE" in error
    assert "nothing was landed" in error
