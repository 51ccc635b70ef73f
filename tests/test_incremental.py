"""Per-episode incremental builds: new or changed episodes are built, others are left alone,
and a full refresh gives the same marts."""

from __future__ import annotations

import shutil
from pathlib import Path

from extract.ids import stable_id
from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.source_facts import episode_files
from tests.warehouse import Warehouse

SPEC = RunSpec(num_episodes=2, num_frames=15, num_agents=4, seed=8, prefix="inc")
MORE = RunSpec(num_episodes=3, num_frames=25, num_agents=4, seed=40, prefix="inc")
TAMPERED_X = -999.0


def contents(warehouse: Warehouse) -> dict[str, set[tuple]]:
    return {
        "observations": set(warehouse.query("select * from marts.observations")),
        "extended_properties": set(warehouse.query("select * from marts.extended_properties")),
        "episodes": set(
            warehouse.query(
                "select episode_id, session_id, episode_name, num_frames, num_agents, "
                "num_observations, first_frame, last_frame, frame_rate, file_sha256, "
                "source_rows, cast(metadata as varchar) from marts.episodes"
            )
        ),
    }


def tamper(warehouse: Warehouse, episode_id: int) -> None:
    """Mark one mart row of an episode, to see whether a build rewrites it."""
    warehouse.execute(
        f"update marts.observations set x = {TAMPERED_X} "
        f"where episode_id = {episode_id} and time_index = 3 and agent_id = 1 "
        "and agent_type_id = 'agent'"
    )


def tampered_rows(warehouse: Warehouse) -> int:
    return warehouse.scalar(f"select count(*) from marts.observations where x = {TAMPERED_X}")


def checked_rows(warehouse: Warehouse, test_name: str) -> str:
    """The row filter of a data test in the last dbt run (`where "__built_in_this_run__"`)."""
    [code] = [
        result["compiled_code"]
        for result in warehouse.run_results()
        if result["unique_id"].split(".")[2] == test_name
    ]
    return code.split(") dbt_subquery")[0].rsplit(" where ", 1)[1]


def test_new_and_changed_episodes_only(empty_warehouse: Warehouse, tmp_path: Path, capsys) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    empty_warehouse.build(run)
    ep0, ep1, ep2 = (stable_id("boids_3d", run.name, str(n)) for n in range(3))
    # the build built every episode: the large marts' tests check all rows, unfiltered
    eav_test = (
        "not_null_columns_extended_properties_observation_id__episode_id__property_id__property_key"
    )
    assert checked_rows(empty_warehouse, eav_test) == "1 = 1"
    tamper(empty_warehouse, ep0)
    capsys.readouterr()

    # a third episode appears in the run folder: only it is landed and built
    more = write_run_folder(tmp_path / "more", MORE)
    shutil.copy(episode_files(more)[2], run / episode_files(more)[2].name)
    empty_warehouse.build(run)
    out = capsys.readouterr().out
    assert out.count("unchanged, skipped") == 2
    assert "landed 1 episode file(s) of 1 session(s)" in out
    assert tampered_rows(empty_warehouse) == 1  # episode 0 was not rebuilt
    assert checked_rows(empty_warehouse, eav_test) == f"episode_id in ({ep2})"
    assert empty_warehouse.query(
        "select episode_number, num_frames, num_observations from marts.episodes order by 1"
    ) == [(0, 16, 16 * 5), (1, 16, 16 * 5), (2, 26, 26 * 5)]
    # the 3D properties scale with the frames (computed accelerations do not: none on frame 0)
    own = (
        "property_id in (select property_id from marts.property_category_mapping "
        "where category_id = 'boids_3d')"
    )
    assert (
        empty_warehouse.scalar(
            f"select count(*) from marts.extended_properties where episode_id = {ep2} and {own}"
        )
        == empty_warehouse.scalar(
            f"select count(*) from marts.extended_properties where episode_id = {ep1} and {own}"
        )
        // 16
        * 26
    )

    # episode 1 changes on disk: only it is landed again and rebuilt
    shutil.copy(episode_files(more)[1], episode_files(run)[1])
    empty_warehouse.build(run)
    assert tampered_rows(empty_warehouse) == 1
    assert empty_warehouse.query(
        f"select num_frames from marts.episodes where episode_id = {ep1}"
    ) == [(26,)]

    incremental = contents(empty_warehouse)
    empty_warehouse.dbt_build("--full-refresh")
    full = contents(empty_warehouse)
    assert tampered_rows(empty_warehouse) == 0
    assert full["extended_properties"] == incremental["extended_properties"]
    assert full["episodes"] == incremental["episodes"]
    # the full refresh rewrote the tampered row from the source, and nothing else differs
    only_incremental = incremental["observations"] - full["observations"]
    only_full = full["observations"] - incremental["observations"]
    assert [row[5] for row in only_incremental] == [TAMPERED_X]
    assert len(only_full) == 1
    assert {row[:5] for row in only_full} == {row[:5] for row in only_incremental}


def test_force_lands_unchanged_files_again(
    empty_warehouse: Warehouse, tmp_path: Path, capsys
) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    empty_warehouse.build(run)
    before = empty_warehouse.query("select episode_id, load_seq from raw.episode_loads order by 1")
    capsys.readouterr()
    assert empty_warehouse.extract("--force", run) == 0
    assert "unchanged, skipped" not in capsys.readouterr().out
    after = empty_warehouse.query("select episode_id, load_seq from raw.episode_loads order by 1")
    assert [e for e, _ in after] == [e for e, _ in before]
    assert all(new > old for (_, old), (_, new) in zip(before, after, strict=True))
    assert empty_warehouse.scalar("select count(*) from raw.boids_3d_frames") == 2 * 16 * 5
