"""`python extract/run.py watch`: files that appear between rounds are landed and built by the
dbt kept in the watcher's process, a broken one is refused by name without stopping it, and
the marts equal those of the two commands run by hand on the same files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from extract.samples.boids_3d import write_run_folder
from extract.settings import REPO_ROOT
from tests.samples import RUN_A, RUN_B
from tests.warehouse import Warehouse, assert_same_marts

BUILT = "dbt build:"


def _start_watch(warehouse: Warehouse, folder: Path) -> subprocess.Popen[str]:
    """Two rounds of the watcher over `folder`, five seconds apart, its dbt artefacts in the
    warehouse's work folder."""
    env = {
        **os.environ,
        **warehouse.env,
        "DBT_TARGET_PATH": str(warehouse.workdir / "watch-target"),
        "DBT_LOG_PATH": str(warehouse.workdir / "watch-logs"),
    }
    command = [sys.executable, str(REPO_ROOT / "extract" / "run.py"), "watch"]
    return subprocess.Popen(
        [*command, "--target", warehouse.target, "--rounds", "2", "--every", "5", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    """The watcher's lines up to and including the first one starting with `marker`."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
    raise AssertionError("the watcher ended before " + marker + ":\n" + "\n".join(lines))


def _episodes(warehouse: Warehouse) -> set[int]:
    return {row[0] for row in warehouse.query("select episode_id from marts.episodes")}


def test_watch_lands_and_builds_what_appears_and_refuses_a_broken_file(
    empty_warehouse: Warehouse, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    warehouse = empty_warehouse
    folder = tmp_path / "runs"
    write_run_folder(folder, RUN_A)
    process = _start_watch(warehouse, folder)
    try:
        first = _read_until(process, BUILT)
        # round 1: run A landed and built, nothing failed
        assert any("flock-a" in line for line in first), first
        assert "ERROR" not in first[-1] and "PASS=" in first[-1], first
        assert len(_episodes(warehouse)) == RUN_A.num_episodes
        if warehouse.target == "duckdb":
            # between rounds the watcher holds no connection: another program opens the file
            with duckdb.connect(warehouse.env["TRACKING_DUCKDB_PATH"]) as conn:
                assert conn.execute("select count(*) from marts.episodes").fetchone() == (2,)
        # before round 2: run B appears, and a file that is not parquet in it
        session_b = write_run_folder(folder, RUN_B)
        broken = session_b / "episode-7-completed-20250302-090500.parquet"
        broken.write_bytes(b"not a parquet file")
        second = _read_until(process, BUILT)
        assert process.wait(timeout=600) == 1  # the last round refused a file
    finally:
        process.kill()
    assert any("refused" in line and broken.name in line for line in second), second
    assert any("flock-b" in line for line in second), second
    assert "ERROR" not in second[-1] and "PASS=" in second[-1], second

    # the marts equal those of `extract/run.py` + `dbt build` of runs A and B, but for the
    # paths of the folders and files they were landed from
    expected = request.getfixturevalue(f"{warehouse.target}_built")
    assert len(_episodes(warehouse)) == RUN_A.num_episodes + RUN_B.num_episodes
    assert_same_marts(
        warehouse,
        expected,
        ignore={"sessions": {"source_path", "config", "metadata"}, "episodes": {"file_path"}},
    )


def test_watch_help_names_what_it_does() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "extract" / "run.py"), "watch", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--every", "--rounds", "--target", "exit status"):
        assert option in result.stdout
