"""Changed inputs give the marts that a full refresh from the same files gives: a dataset
saved again with fewer samples, a changed session config, files and sessions removed or gone
from a synced folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from extract.ids import stable_id
from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.source_facts import episode_files
from tests.warehouse import (
    TARGETS,
    Warehouse,
    assert_same_marts,
    duckdb_warehouse,
    new_warehouse,
)

RUN = RunSpec(num_episodes=3, num_frames=12, num_agents=3, seed=5, prefix="chg", extra_files=False)
MOVED = RunSpec(
    num_episodes=1,
    num_frames=10,
    num_agents=3,
    seed=9,
    prefix="moved",
    started="20250202-101010",
    extra_files=False,
)
SHRINK = DatasetSpec(name="shrink", num_samples=3, steps=6, species_counts=(3,), seed=2)
GONE = DatasetSpec(name="gone", num_samples=1, steps=5, species_counts=(2,), seed=3)


def set_frame_rate(run: Path, fps: float) -> None:
    """State a frame rate in a run's config.yaml."""
    config_file = run / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["frame_rate"] = fps
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def landed_ids(warehouse: Warehouse, table: str) -> set[int]:
    return {e for (e,) in warehouse.query(f"select distinct episode_id from raw.{table}")}


def load_seqs(warehouse: Warehouse) -> dict[int, int]:
    return dict(warehouse.query("select episode_id, load_seq from raw.episode_loads"))


def test_dataset_saved_with_fewer_samples_replaces_all_its_episodes(tmp_path: Path, capsys) -> None:
    dataset = write_dataset(tmp_path / "data", SHRINK)
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(dataset) == 0
        write_dataset(tmp_path / "data", DatasetSpec(**{**SHRINK.__dict__, "num_samples": 2}))
        capsys.readouterr()
        assert warehouse.extract(dataset) == 0
        assert "1 episode(s) no longer in it removed" in capsys.readouterr().out
        kept = {stable_id("boids_2d", "shrink", str(sample)) for sample in (0, 1)}
        for table in ("boids_2d_frames", "boids_2d_episodes", "episode_loads", "landed_episodes"):
            assert landed_ids(warehouse, table) == kept, table


def test_changed_config_marks_its_episodes_for_rebuild(tmp_path: Path, capsys) -> None:
    run = write_run_folder(tmp_path / "data", RUN)
    first, second = episode_files(run)[:2]
    episode_files(run)[2].unlink()
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(run) == 0
        before = load_seqs(warehouse)

        # an episode file added to the run does not mark the others
        more = write_run_folder(tmp_path / "more", RUN)
        shutil.copy(episode_files(more)[2], run / episode_files(more)[2].name)
        assert warehouse.extract(run) == 0
        added = load_seqs(warehouse)
        assert {e: added[e] for e in before} == before
        assert len(added) == 3

        # the frame rate changes in config.yaml alone: every episode of the run is marked
        set_frame_rate(run, 50)
        capsys.readouterr()
        assert warehouse.extract(run) == 0
        out = capsys.readouterr().out
        assert out.count("unchanged, skipped") == 3
        assert "session changed: 3 episode(s) marked for rebuild" in out
        marked = load_seqs(warehouse)
        assert marked.keys() == added.keys()
        assert all(marked[e] > added[e] for e in added)
        assert warehouse.scalar("select config_frame_rate from raw.boids_3d_sessions") == 50

        # and a rerun changes nothing
        assert warehouse.extract(run) == 0
        assert load_seqs(warehouse) == marked
    assert first.exists() and second.exists()


@pytest.mark.parametrize("target", TARGETS)
def test_changed_inputs_give_the_marts_of_a_full_refresh(target: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = write_run_folder(data, RUN)
    set_frame_rate(run, 25)
    moved = write_run_folder(data, MOVED)
    write_dataset(data, SHRINK)
    write_dataset(data, GONE)
    with new_warehouse(target, tmp_path / "incremental") as warehouse:
        warehouse.build(data)

        # a dataset saved again with fewer samples, a changed frame rate, an episode file
        # deleted, a session folder renamed, a dataset deleted
        write_dataset(data, DatasetSpec(**{**SHRINK.__dict__, "num_samples": 2, "seed": 4}))
        set_frame_rate(run, 50)
        episode_files(run)[2].unlink()
        moved.rename(data / "moved-started-20250303-101010")
        for file in data.glob("gone*.pt"):
            file.unlink()

        assert warehouse.command("remove", "--session", "gone", "--dry-run") == 0
        assert warehouse.scalar("select count(*) from raw.boids_2d_sessions") == 2
        assert warehouse.command("remove", "--session", "gone") == 0
        assert warehouse.command("sync", data) == 0
        warehouse.build(data)

        with new_warehouse(target, tmp_path / "full") as full:
            full.build(data)
            assert_same_marts(warehouse, full)

        assert warehouse.query(
            "select s.session_name, count(*) from marts.episodes e "
            "join marts.sessions s using (session_id) group by 1 order by 1"
        ) == [
            (run.name, 2),
            ("moved-started-20250303-101010", 1),
            ("shrink", 2),
        ]
        assert (
            warehouse.query(
                "select e.frame_rate, s.duration_frames, s.duration_seconds "
                "from marts.episode_summary s join marts.episodes e using (episode_id) "
                "where e.category_id = 'boids_3d' and e.session_id = "
                f"{stable_id('boids_3d', run.name)}"
            )
            == [(50.0, 12, 12 / 50)] * 2
        )
