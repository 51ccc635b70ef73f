"""Removing sessions and episodes: `remove` (explicit, previewed by --dry-run) and `sync` (what
is gone from a folder goes from the warehouse); loading the files again brings them back.
The marts following on both targets: tests/test_changed_inputs.py."""

from __future__ import annotations

from pathlib import Path

from extract.cli import main as extract_main
from extract.ids import stable_id
from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.source_facts import episode_files
from tests.warehouse import Warehouse, duckdb_warehouse

RUN = RunSpec(num_episodes=3, num_frames=5, num_agents=2, seed=1, prefix="rm", extra_files=False)
OTHER = RunSpec(
    num_episodes=1,
    num_frames=5,
    num_agents=2,
    seed=2,
    prefix="other",
    started="20250505-050505",
    extra_files=False,
)
DATASET = DatasetSpec(name="samples", num_samples=2, steps=4, species_counts=(2,), seed=1)
RAW = (
    "boids_3d_sessions",
    "boids_3d_episodes",
    "boids_3d_frames",
    "boids_2d_sessions",
    "boids_2d_episodes",
    "boids_2d_frames",
    "episode_loads",
    "landed_episodes",
    "landed_files",
)


def raw_counts(warehouse: Warehouse) -> dict[str, int]:
    """Rows per raw table (0 for a table not created yet)."""
    existing = warehouse.query(
        "select table_name from information_schema.tables where table_schema = 'raw'"
    )
    return {
        t: warehouse.scalar(f"select count(*) from raw.{t}") if (t,) in existing else 0 for t in RAW
    }


def episode_ids(warehouse: Warehouse, table: str) -> set[int]:
    return {e for (e,) in warehouse.query(f"select distinct episode_id from raw.{table}")}


def landed_files(warehouse: Warehouse) -> set[tuple[str, str]]:
    return set(warehouse.query("select session_name, file_name from raw.landed_files"))


def test_remove_episode_and_session(tmp_path: Path, capsys) -> None:
    run = write_run_folder(tmp_path / "data", RUN)
    write_dataset(tmp_path / "data", DATASET)
    ep0, ep1, ep2 = (stable_id("boids_3d", run.name, str(n)) for n in range(3))
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(tmp_path / "data") == 0
        before = raw_counts(warehouse)

        # a dry run lists what would go and changes nothing
        capsys.readouterr()
        assert (
            warehouse.command("remove", "--session", run.name, "--episode", ep1, "--dry-run") == 0
        )
        out = capsys.readouterr().out
        assert f"episode {ep1}" in out and episode_files(run)[1].name in out
        assert "dry run: nothing was removed" in out
        assert raw_counts(warehouse) == before

        # one episode: its rows and its file's record go, the session stays
        assert warehouse.command("remove", "--session", run.name, "--episode", str(ep1)) == 0
        for table in ("boids_3d_frames", "boids_3d_episodes", "episode_loads", "landed_episodes"):
            assert ep1 not in episode_ids(warehouse, table), table
            assert {ep0, ep2} <= episode_ids(warehouse, table), table
        assert (run.name, episode_files(run)[1].name) not in landed_files(warehouse)
        assert warehouse.scalar("select count(*) from raw.boids_3d_sessions") == 1
        assert warehouse.scalar("select count(*) from raw.boids_2d_episodes") == 2

        # loading the folder again brings it back, and only it is landed
        capsys.readouterr()
        assert warehouse.extract(tmp_path / "data") == 0
        assert "landed 1 episode file(s)" in capsys.readouterr().out
        assert raw_counts(warehouse) == before

        # a whole session: every raw row of it, its session row and its files' records
        assert warehouse.command("remove", "--session", run.name) == 0
        assert episode_ids(warehouse, "boids_3d_frames") == set()
        assert warehouse.scalar("select count(*) from raw.boids_3d_sessions") == 0
        assert {session for session, _ in landed_files(warehouse)} == {"samples.pt"}
        assert raw_counts(warehouse)["boids_2d_frames"] == before["boids_2d_frames"]
        assert warehouse.command("remove", "--session", "samples") == 0
        assert raw_counts(warehouse) == dict.fromkeys(RAW, 0)


def test_remove_refuses_what_the_warehouse_does_not_hold(tmp_path: Path, capsys) -> None:
    run = write_run_folder(tmp_path / "data", RUN)
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(run) == 0
        before = raw_counts(warehouse)
        capsys.readouterr()
        assert warehouse.command("remove", "--session", "no-such-session") == 1
        assert "no session named 'no-such-session'" in capsys.readouterr().err
        other = stable_id("boids_3d", "other", "0")
        assert warehouse.command("remove", "--session", run.name, "--episode", other) == 1
        assert f"no episode {other} in session" in capsys.readouterr().err
        assert warehouse.command("remove", "--session", run.name, "--family", "boids_2d") == 1
        assert raw_counts(warehouse) == before


def test_sync_removes_what_is_gone_from_the_folder(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    run = write_run_folder(data, RUN)
    other = write_run_folder(data, OTHER)
    elsewhere = write_dataset(tmp_path / "elsewhere", DATASET)
    ep1 = stable_id("boids_3d", run.name, "1")
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(data, elsewhere) == 0
        episode_files(run)[1].unlink()
        renamed = other.rename(data / "other-started-20250606-060606")
        before = raw_counts(warehouse)

        capsys.readouterr()
        assert warehouse.command("sync", "--dry-run", data) == 0
        out = capsys.readouterr().out
        assert f"episode {ep1}" in out and f"session boids_3d {other.name}: all" in out
        assert raw_counts(warehouse) == before

        assert warehouse.command("sync", data) == 0
        assert ep1 not in episode_ids(warehouse, "boids_3d_frames")
        assert warehouse.query("select session_name from raw.boids_3d_sessions") == [(run.name,)]
        # what was landed from elsewhere is not in the synced folder: it stays
        assert raw_counts(warehouse)["boids_2d_episodes"] == 2

        # syncing again finds nothing to remove; the renamed session is landed as a new one
        capsys.readouterr()
        assert warehouse.command("sync", data) == 0
        assert "nothing to remove" in capsys.readouterr().out
        assert warehouse.extract(renamed) == 0
        assert set(warehouse.query("select session_name from raw.boids_3d_sessions")) == {
            (run.name,),
            (renamed.name,),
        }

        # a folder that no longer exists: everything landed from it goes
        elsewhere.unlink()
        elsewhere.with_name("samples_config.pt").unlink()
        elsewhere.parent.rmdir()
        assert warehouse.command("sync", elsewhere.parent) == 0
        assert warehouse.scalar("select count(*) from raw.boids_2d_episodes") == 0


def test_help_lists_the_commands(capsys) -> None:
    for argv in (["--help"], ["remove", "--help"], ["sync", "--help"]):
        try:
            extract_main(argv)
        except SystemExit as exit_:
            assert exit_.code == 0
    out = capsys.readouterr().out
    assert "python extract/run.py remove" in out and "python extract/run.py sync" in out
    assert "--dry-run" in out and "--episode" in out
