"""The extract CLI: help, progress and summary, and bad input that lands nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.settings import REPO_ROOT
from tests.source_facts import episode_files
from tests.warehouse import Warehouse, duckdb_warehouse

SPEC = RunSpec(num_episodes=2, num_frames=10, num_agents=3, seed=5, prefix="cli")
OTHER = RunSpec(num_frames=5, prefix="other")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "extract" / "run.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_help_explains_paths_targets_settings_and_exit_codes() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for text in (
        "--target {duckdb,postgres,spark}",
        "--skip-invalid",
        "--check",
        "boids_3d",
        "config.yaml",
        "TRACKING_DUCKDB_PATH",
        "PGHOST",
        "TRACKING_LAKE",
        "exit status",
        "dbt build",
    ):
        assert text in result.stdout, text


def test_progress_and_summary(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    result = run_cli(str(run), env={"TRACKING_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "found 1 session(s), 2 episode file(s)" in out
    assert f"[1/2] {episode_files(run)[0].name}: 44 rows" in out
    assert "landed 2 episode file(s) of 1 session(s)" in out
    assert "raw.boids_3d_frames: 88 rows" in out
    assert "next: dbt build --target duckdb" in out


def test_unknown_path_and_empty_folder(tmp_path: Path) -> None:
    missing = run_cli(str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert f"{tmp_path / 'nope'}: no such file or folder" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run_cli(str(tmp_path / "empty"))
    assert empty.returncode == 1
    assert "no recognised input found" in empty.stderr
    assert "config.yaml" in empty.stderr


def test_bad_usage_exits_2() -> None:
    assert run_cli().returncode == 2
    assert run_cli("--target", "sqlite", ".").returncode == 2


def test_unreachable_postgres_exits_3(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    result = run_cli("--target", "postgres", str(run), env={"PGPORT": "1", "PGHOST": "127.0.0.1"})
    assert result.returncode == 3
    assert "cannot connect to Postgres at postgresql://" in result.stderr
    assert "nothing was landed" in result.stderr


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Warehouse, Path]:
    """A DuckDB warehouse holding one good run, and that run's folder."""
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        run = write_run_folder(tmp_path / "data", SPEC)
        assert warehouse.extract(run) == 0
        yield warehouse, run


def raw_snapshot(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query(
        "select episode_id, count(*), sum(x) from raw.boids_3d_frames group by 1 order by 1"
    )


BAD_EPISODES = {
    "truncated": (None, lambda data: data[: len(data) // 2], "not a readable parquet file"),
    "empty file": (None, lambda data: b"", "not a readable parquet file"),
    "no rows": (lambda t: t.slice(0, 0), None, "the file holds no rows"),
    "missing x": (lambda t: t.drop_columns(["x"]), None, "missing required column(s) x"),
    "negative frame": (
        lambda t: t.set_column(2, "time", pa.array([-1, *t.column("time").to_pylist()[1:]])),
        None,
        "column 'time' is negative (-1) at row 0",
    ),
    "NaN position": (
        lambda t: t.set_column(
            t.schema.get_field_index("y"),
            "y",
            pa.array([float("nan"), *t.column("y").to_pylist()[1:]]),
        ),
        None,
        "column 'y' must be a finite number at every row; row 0 is nan",
    ),
    "duplicate entity": (
        lambda t: pa.concat_tables([t, t.slice(5, 1)]),
        None,
        "duplicate entity at row 44: time 1, id 2, type 'agent' appears twice",
    ),
    "unknown type": (
        lambda t: t.set_column(1, "type", pa.array(["robot", *t.column("type").to_pylist()[1:]])),
        None,
        "column 'type' holds 'robot' at row 0",
    ),
    "text ids": (
        lambda t: t.set_column(0, "id", pa.array([str(v) for v in t.column("id").to_pylist()])),
        None,
        "column 'id' must be an integer, found type string",
    ),
}


def corrupt_copy(run: Path, dest: Path, case: str) -> Path:
    """A copy of the run under `dest` with its episode 1 spoilt as BAD_EPISODES[case] says."""
    change_table, change_bytes, _ = BAD_EPISODES[case]
    copy = dest / run.name
    shutil.copytree(run, copy)
    target = episode_files(copy)[1]
    if change_bytes is not None:
        target.write_bytes(change_bytes(target.read_bytes()))
    else:
        pq.write_table(change_table(pq.read_table(target)), target)
    return copy


@pytest.mark.parametrize("case", sorted(BAD_EPISODES))
def test_bad_episode_lands_nothing(
    loaded: tuple[Warehouse, Path], tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse, run = loaded
    before = raw_snapshot(warehouse)
    bad = corrupt_copy(run, tmp_path / "bad", case)
    # a second, valid run in the same call must not land either
    other = write_run_folder(tmp_path / "more", OTHER)
    assert warehouse.extract(bad, other) == 1
    assert f"error: {episode_files(bad)[1]}: {BAD_EPISODES[case][2]}" in capsys.readouterr().err
    assert raw_snapshot(warehouse) == before
    assert warehouse.scalar("select count(*) from raw.boids_3d_sessions") == 1


def test_bad_episode_message_names_file(
    loaded: tuple[Warehouse, Path], tmp_path: Path, capsys
) -> None:
    warehouse, run = loaded
    bad = corrupt_copy(run, tmp_path / "bad", "missing x")
    assert warehouse.extract(bad) == 1
    err = capsys.readouterr().err
    assert f"error: {episode_files(bad)[1]}: missing required column(s) x" in err
    assert "nothing was landed." in err


def test_invalid_yaml_lands_nothing(loaded: tuple[Warehouse, Path], tmp_path: Path, capsys) -> None:
    warehouse, run = loaded
    before = raw_snapshot(warehouse)
    copy = tmp_path / "bad" / run.name
    shutil.copytree(run, copy)
    (copy / "config.yaml").write_text("simulator: [unclosed\n")
    assert warehouse.extract(copy) == 1
    assert f"{copy / 'config.yaml'}: invalid YAML" in capsys.readouterr().err
    assert raw_snapshot(warehouse) == before


def test_skip_invalid_lands_the_valid_files(
    loaded: tuple[Warehouse, Path], tmp_path: Path, capsys
) -> None:
    warehouse, run = loaded
    bad = corrupt_copy(run, tmp_path / "bad", "missing x")
    other = write_run_folder(tmp_path / "more", OTHER)
    assert warehouse.extract("--skip-invalid", bad, other) == 1
    captured = capsys.readouterr()
    assert "refused 1 input(s):" in captured.err
    assert "missing required column(s) x" in captured.err
    # episode 0 of the bad copy (same name as the loaded run) and both episodes of `other`
    assert warehouse.scalar("select count(*) from raw.boids_3d_sessions") == 2
    assert warehouse.scalar("select count(*) from raw.boids_3d_episodes") == 4


def test_check_writes_nothing(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    path = tmp_path / "w.duckdb"
    result = run_cli("--check", str(run), env={"TRACKING_DUCKDB_PATH": str(path)})
    assert result.returncode == 0
    assert "checked 2 episode file(s) of 1 session(s)" in result.stdout
    assert not path.exists()


@pytest.mark.parametrize("empty_warehouse", ["postgres"], indirect=True)
def test_password_never_printed(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    """Progress, summary and errors never show PGPASSWORD (the local server trusts, so the
    password is accepted and ignored)."""
    run = write_run_folder(tmp_path / "data", SPEC)
    secret = "s3cret-never-printed"
    env = {**empty_warehouse.env, "PGPASSWORD": secret}
    landed = run_cli("--target", "postgres", str(run), env=env)
    refused = run_cli("--target", "postgres", str(run), env={**env, "PGPORT": "1"})
    assert landed.returncode == 0, landed.stderr
    assert refused.returncode == 3
    for output in (landed.stdout, landed.stderr, refused.stdout, refused.stderr):
        assert secret not in output
    assert "cannot connect to Postgres at postgresql://postgres@127.0.0.1:1/" in refused.stderr
