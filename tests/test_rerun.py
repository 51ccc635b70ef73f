"""Rerunning changes nothing; a changed file replaces exactly its episode's rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import torch

from extract.ids import stable_id
from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.source_facts import episode_files
from tests.warehouse import Warehouse, duckdb_warehouse

SPEC = RunSpec(num_episodes=2, num_frames=20, num_agents=5, seed=3, prefix="rerun")
MARTS = ("sessions", "episodes", "observations", "extended_properties")
RAW = ("boids_3d_sessions", "boids_3d_episodes", "boids_3d_frames")


def counts(warehouse: Warehouse) -> dict[str, int]:
    found = {f"marts.{t}": warehouse.scalar(f"select count(*) from marts.{t}") for t in MARTS}
    found |= {f"raw.{t}": warehouse.scalar(f"select count(*) from raw.{t}") for t in RAW}
    return found


def observation_snapshot(warehouse: Warehouse, episode_id: int) -> list[tuple]:
    return warehouse.query(
        "select observation_id, x, y, z, v_x from marts.observations "
        f"where episode_id = {episode_id} order by observation_id"
    )


def test_rerun_changes_nothing(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    empty_warehouse.build(run)
    before = counts(empty_warehouse)
    rows = 2 * 21 * (5 + 1)
    assert before["marts.observations"] == before["raw.boids_3d_frames"] == rows
    snapshot = observation_snapshot(empty_warehouse, stable_id("boids_3d", run.name, "0"))

    empty_warehouse.build(run)
    empty_warehouse.build(run.parent)  # the same run again, found through its parent folder
    assert counts(empty_warehouse) == before
    assert observation_snapshot(empty_warehouse, stable_id("boids_3d", run.name, "0")) == snapshot


def test_changed_file_replaces_its_episode(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    empty_warehouse.build(run)
    ep0, ep1 = (stable_id("boids_3d", run.name, str(n)) for n in (0, 1))
    untouched = observation_snapshot(empty_warehouse, ep0)

    # episode 1 re-simulated with more frames and another seed, under the same file name
    other = write_run_folder(
        tmp_path / "other", RunSpec(num_episodes=2, num_frames=30, num_agents=5, seed=99)
    )
    target = episode_files(run)[1]
    shutil.copyfile(episode_files(other)[1], target)
    empty_warehouse.build(run)

    assert observation_snapshot(empty_warehouse, ep0) == untouched
    replaced = pq.read_table(target)
    assert (
        empty_warehouse.scalar(f"select count(*) from marts.observations where episode_id = {ep1}")
        == replaced.num_rows
        == 31 * 6
    )
    assert empty_warehouse.query(
        f"select num_frames, source_rows from marts.episodes where episode_id = {ep1}"
    ) == [(31, 31 * 6)]
    first = replaced.to_pandas().query("time == 30 and id == 5 and type == 'agent'").iloc[0]
    assert empty_warehouse.query(
        "select x, y, z from marts.observations "
        f"where episode_id = {ep1} and time_index = 30 and agent_id = 5 and agent_type_id = 'agent'"
    ) == [(first.x, first.y, first.z)]
    assert empty_warehouse.scalar("select count(*) from raw.boids_3d_frames") == 21 * 6 + 31 * 6


def test_changed_2d_config_lands_its_dataset_again(tmp_path: Path, capsys) -> None:
    """A .pt dataset is landed again when only its _config.pt changed (the food flags and
    distances come from the config)."""
    spec = DatasetSpec(name="cfg", num_samples=2, steps=5, species_counts=(3,), seed=1)
    dataset = write_dataset(tmp_path / "data", spec)
    config_path = dataset.with_name(dataset.stem + "_config.pt")
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(dataset) == 0
        assert warehouse.extract(dataset) == 0
        assert "unchanged, skipped" in capsys.readouterr().out
        config = torch.load(config_path, weights_only=False)
        config["A"]["margin"] = config["A"]["margin"] + 1
        torch.save(config, config_path)
        assert warehouse.extract(dataset) == 0
        out = capsys.readouterr().out
        assert "unchanged, skipped" not in out
        assert "landed 1 episode file(s) of 1 session(s)" in out
        assert '"margin"' in warehouse.scalar("select config_json from raw.boids_2d_sessions")


def test_same_named_files_of_two_cameras_are_two_files(tmp_path: Path, capsys) -> None:
    """Files are known by their path in the session: a camera added later with a file of the
    same name and content as another camera's is landed, not taken as already landed."""
    session = tmp_path / "2025_07_01-session_0001"
    csv = "track_id,frame,x,y\n1,0,10,20\n1,1,11,21\n"
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        for camera in ("thermal_1", "thermal_2"):
            (session / camera).mkdir(parents=True)
            (session / camera / "cam_tracks.csv").write_text(csv)
            assert warehouse.extract(session) == 0
        out = capsys.readouterr().out
        assert "[1/2] thermal_1/cam_tracks.csv: unchanged, skipped" in out
        assert "[2/2] thermal_2/cam_tracks.csv: 2 rows" in out
        assert warehouse.query(
            "select camera, num_rows from raw.tracking_csv_episodes order by camera"
        ) == [("thermal_1", 2), ("thermal_2", 2)]
        assert warehouse.scalar("select count(*) from raw.tracking_csv_frames") == 4
