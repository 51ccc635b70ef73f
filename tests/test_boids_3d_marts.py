"""The 3D boids marts hold exactly what the source files hold, on both targets."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.samples import RUN_A, RUN_B
from tests.source_facts import (
    episode_files,
    episode_id,
    observation_id,
    property_value_count,
    run_folders,
    target_numbers,
)
from tests.warehouse import Warehouse

# The 3D family's own properties (computed ones such as speed are checked in test_analytics).
BOIDS3D_PROPERTY = (
    "property_id in (select property_id from marts.property_category_mapping "
    "where category_id = 'boids_3d')"
)


def test_observation_counts_match_source(built: Warehouse, sample_runs: Path) -> None:
    files = [f for run in run_folders(sample_runs) for f in episode_files(run)]
    expected = sum(pq.read_metadata(f).num_rows for f in files)
    # frames 0..num_frames inclusive, agents plus one env row per target
    assert expected == 2 * 41 * (6 + 2) + 31 * (4 + 1)
    assert built.scalar("select count(*) from marts.observations") == expected
    assert built.query(
        "select agent_type_id, count(*) from marts.observations group by 1 order by 1"
    ) == [("agent", 2 * 41 * 6 + 31 * 4), ("env", 2 * 41 * 2 + 31 * 1)]


def test_extended_property_counts_match_source(built: Warehouse, sample_runs: Path) -> None:
    for run in run_folders(sample_runs):
        for number, file in enumerate(episode_files(run)):
            expected = property_value_count(pq.read_table(file))
            got = built.scalar(
                "select count(*) from marts.extended_properties "
                f"where episode_id = {episode_id(run.name, number)} and {BOIDS3D_PROPERTY}"
            )
            assert got == expected, file.name
    # run B has no scene mesh: its -1.0 sentinel is not stored as a distance
    assert (
        built.scalar(
            "select count(*) from marts.extended_properties "
            f"where episode_id = {episode_id(RUN_B.folder_name, 0)} and property_id like 'scene_mesh%'"
        )
        == 0
    )


def test_episodes_and_sessions(built: Warehouse, sample_runs: Path) -> None:
    rows = built.query(
        "select s.session_name, e.episode_number, e.num_frames, e.num_agents, "
        "e.num_environment_entities, e.frame_rate, e.file_name, s.category_id "
        "from marts.episodes e join marts.sessions s using (session_id) order by 1, 2"
    )
    names = [f.name for run in run_folders(sample_runs) for f in episode_files(run)]
    assert rows == [
        (RUN_A.folder_name, 0, 41, 6, 2, 30.0, names[0], "boids_3d"),
        (RUN_A.folder_name, 1, 41, 6, 2, 30.0, names[1], "boids_3d"),
        (RUN_B.folder_name, 0, 31, 4, 1, 30.0, names[2], "boids_3d"),
    ]
    config = built.scalar(
        f"select cast(config as varchar) from marts.sessions where session_name = '{RUN_A.folder_name}'"
    )
    source = yaml.safe_load((sample_runs / RUN_A.folder_name / "config.yaml").read_text())
    assert json.loads(config) == json.loads(json.dumps(source))
    assert built.scalar("select count(*) from marts.sessions") == 2


def test_spot_values_equal_source(built: Warehouse, sample_runs: Path) -> None:
    table = pq.read_table(episode_files(sample_runs / RUN_A.folder_name)[1]).to_pandas()
    row = table[(table.time == 20) & (table.id == 3) & (table.type == "agent")].iloc[0]
    ep = episode_id(RUN_A.folder_name, 1)
    got = built.query(
        "select x, y, z, v_x, v_y, v_z from marts.observations "
        f"where episode_id = {ep} and time_index = 20 and agent_id = 3 and agent_type_id = 'agent'"
    )
    assert got == [(row.x, row.y, row.z, row.v_x, row.v_y, row.v_z)]
    props = dict(
        built.query(
            "select p.property_id, p.value_float from marts.extended_properties p "
            "join marts.observations o using (observation_id) "
            f"where o.episode_id = {ep} and o.time_index = 20 and o.agent_id = 3 "
            f"and o.agent_type_id = 'agent' and p.{BOIDS3D_PROPERTY}"
        )
    )
    assert props["distance_to_target_center"] == row.distance_target_center_1
    assert props["distance_to_target_center_2"] == row.distance_target_center_2
    assert props["distance_to_target_mesh_2"] == row.distance_to_target_mesh_closest_point_2
    assert [props[f"target_mesh_closest_{a}_2"] for a in "xyz"] == list(
        row.target_mesh_closest_point_2
    )
    assert [props[f"scene_mesh_closest_{a}"] for a in "xyz"] == list(row.mesh_scene_closest_point)
    assert props["distance_to_scene_mesh"] == row.mesh_scene_distance
    assert len(props) == 2 * 5 + 4


def test_quirky_run_values(built: Warehouse, sample_runs: Path) -> None:
    """Run B: the distance_to_target_center spelling, float32 lists, no scene mesh."""
    table = pq.read_table(episode_files(sample_runs / RUN_B.folder_name)[0]).to_pandas()
    row = table[(table.time == 7) & (table.id == 2) & (table.type == "agent")].iloc[0]
    props = dict(
        built.query(
            "select p.property_id, p.value_float from marts.extended_properties p "
            "join marts.observations o using (observation_id) "
            f"where o.episode_id = {episode_id(RUN_B.folder_name, 0)} and o.time_index = 7 "
            f"and o.agent_id = 2 and o.agent_type_id = 'agent' and p.{BOIDS3D_PROPERTY}"
        )
    )
    assert props["distance_to_target_center"] == row.distance_to_target_center_1
    assert [props[f"target_mesh_closest_{a}"] for a in "xyz"] == [
        float(v) for v in row.target_mesh_closest_point_1
    ]
    assert set(props) == {
        "distance_to_target_center",
        "distance_to_target_mesh",
        "target_mesh_closest_x",
        "target_mesh_closest_y",
        "target_mesh_closest_z",
    }


def test_env_rows_and_targets_before_creation(built: Warehouse, sample_runs: Path) -> None:
    table = pq.read_table(episode_files(sample_runs / RUN_A.folder_name)[0]).to_pandas()
    env = table[(table.type == "env") & (table.time == 12)].sort_values("id")
    got = built.query(
        "select agent_id, x, y, z, v_x from marts.observations "
        f"where episode_id = {episode_id(RUN_A.folder_name, 0)} and time_index = 12 "
        "and agent_type_id = 'env' order by agent_id"
    )
    assert got == [(r.id, r.x, r.y, r.z, None) for r in env.itertuples()]
    # the targets appear at frame 5: no target distances before it, all of them from it on
    per_frame = dict(
        built.query(
            "select o.time_index, count(*) from marts.extended_properties p "
            "join marts.observations o using (observation_id) "
            f"where o.episode_id = {episode_id(RUN_A.folder_name, 0)} "
            "and p.property_id = 'distance_to_target_center_2' group by 1"
        )
    )
    assert min(per_frame) == RUN_A.target_creation_time
    assert set(per_frame.values()) == {RUN_A.num_agents}


def test_property_definitions_cover_every_target(built: Warehouse, sample_runs: Path) -> None:
    targets = max(
        max(target_numbers(pq.read_schema(f).empty_table()), default=0)
        for run in run_folders(sample_runs)
        for f in episode_files(run)
    )
    assert targets == 2
    suffixed = built.query(
        "select property_id, base_property_id, target_number from marts.property_definitions "
        "where target_number = 2 order by 1"
    )
    assert suffixed == [
        ("distance_to_target_center_2", "distance_to_target_center", 2),
        ("distance_to_target_mesh_2", "distance_to_target_mesh", 2),
        ("target_mesh_closest_x_2", "target_mesh_closest_x", 2),
        ("target_mesh_closest_y_2", "target_mesh_closest_y", 2),
        ("target_mesh_closest_z_2", "target_mesh_closest_z", 2),
    ]
    assert built.query(
        "select category_id from marts.property_category_mapping "
        "where property_id = 'target_mesh_closest_z_2'"
    ) == [("boids_3d",)]
    assert built.query("select category_id from marts.categories order by 1") == [
        ("boids_2d",),
        ("boids_2d_rollout",),
        ("boids_3d",),
        ("computed",),
        ("tracking_csv",),
    ]
    assert built.scalar("select count(*) from marts.agent_types") == 7


@pytest.mark.parametrize(
    ("time_index", "agent_id", "agent_type"), [(0, 1, "agent"), (40, 2, "env")]
)
def test_observation_id_is_documented_hash(
    built: Warehouse, time_index: int, agent_id: int, agent_type: str
) -> None:
    ep = episode_id(RUN_A.folder_name, 1)
    expected = observation_id(ep, time_index, agent_type, agent_id)
    assert built.observation_id(ep, time_index, agent_type, agent_id) == expected
