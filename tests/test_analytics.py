"""Computed properties, the wide model and the analytics marts hold what the source files
imply, on both targets (recomputed here with numpy/pandas from the parquet files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.samples import RUN_A, RUN_B
from tests.source_facts import episode_files, episode_id
from tests.warehouse import Warehouse, approx

REACH_DISTANCE = 1.0  # target_reach_distance default for boids_3d
VELOCITY = ["v_x", "v_y", "v_z"]


def agent_rows(sample_runs: Path, run_name: str, number: int) -> pd.DataFrame:
    """The agent rows of one source episode, sorted by agent and frame, with the speed, the
    backward-difference acceleration and the distance to the nearest target mesh."""
    table = pq.read_table(episode_files(sample_runs / run_name)[number]).to_pandas()
    agents = table[table.type == "agent"].sort_values(["id", "time"]).reset_index(drop=True)
    agents["speed"] = np.sqrt((agents[VELOCITY] ** 2).sum(axis=1))
    previous = agents.groupby("id")[VELOCITY].shift(1)
    step = agents.time - agents.groupby("id").time.shift(1)
    acceleration = (agents[VELOCITY] - previous).where(step == 1)
    agents[["a_x", "a_y", "a_z"]] = acceleration.to_numpy()
    agents["acceleration_magnitude"] = np.sqrt((acceleration**2).sum(axis=1, min_count=3))
    mesh = [c for c in agents.columns if c.startswith("distance_to_target_mesh_closest_point_")]
    agents["distance_to_target"] = agents[mesh].min(axis=1)
    return agents


def test_speed_and_acceleration_spot_rows(built: Warehouse, sample_runs: Path) -> None:
    agents = agent_rows(sample_runs, RUN_A.folder_name, 1)
    ep = episode_id(RUN_A.folder_name, 1)
    for time_index, agent in [(0, 1), (20, 3), (40, 6)]:
        row = agents[(agents.time == time_index) & (agents.id == agent)].iloc[0]
        got = dict(
            built.query(
                "select p.property_id, p.value_float from marts.extended_properties p "
                "join marts.observations o using (observation_id) "
                f"where o.episode_id = {ep} and o.time_index = {time_index} "
                f"and o.agent_id = {agent} and o.agent_type_id = 'agent' "
                "and p.property_id in ('speed', 'acceleration_x', 'acceleration_y', "
                "'acceleration_z', 'acceleration_magnitude')"
            )
        )
        # one IEEE operation order on every side: exact
        assert got["speed"] == np.sqrt(row.v_x * row.v_x + row.v_y * row.v_y + row.v_z * row.v_z)
        if time_index == 0:
            assert set(got) == {"speed"}  # no previous frame, no acceleration
            continue
        before = agents[(agents.time == time_index - 1) & (agents.id == agent)].iloc[0]
        expected = [row[v] - before[v] for v in VELOCITY]
        assert [got[f"acceleration_{c}"] for c in "xyz"] == expected
        assert got["acceleration_magnitude"] == approx(np.linalg.norm(expected))


def test_computed_property_counts(built: Warehouse) -> None:
    """Every agent row has a speed; every agent row but the first frame an acceleration;
    env rows (no velocity) have none."""
    agent_rows_count = 2 * 41 * 6 + 31 * 4
    first_frames = 2 * 6 + 4
    counts = dict(
        built.query(
            "select property_id, count(*) from marts.extended_properties "
            "where property_id in ('speed', 'acceleration_x', 'acceleration_z', "
            "'acceleration_magnitude') group by 1"
        )
    )
    assert counts == {
        "speed": agent_rows_count,
        "acceleration_x": agent_rows_count - first_frames,
        "acceleration_z": agent_rows_count - first_frames,
        "acceleration_magnitude": agent_rows_count - first_frames,
    }


def test_wide_values_equal_eav_values(built: Warehouse) -> None:
    properties = [
        p for (p,) in built.query("select property_id from marts.property_definitions order by 1")
    ]
    columns = [
        c
        for (c,) in built.query(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'observation_properties_wide'"
        )
    ]
    assert set(properties) <= set(columns)  # incl. distance_to_target_center_2 etc.
    assert "distance_to_target_center_2" in columns
    ep = episode_id(RUN_A.folder_name, 0)
    eav = pd.DataFrame(
        built.query(
            "select observation_id, property_id, value_float from marts.extended_properties "
            f"where episode_id = {ep}"
        ),
        columns=["observation_id", "property_id", "value_float"],
    )
    floats = eav.pivot(index="observation_id", columns="property_id", values="value_float")
    names = list(floats.columns)
    wide = pd.DataFrame(
        built.query(
            f"select observation_id, {', '.join(names)} from marts.observation_properties_wide "
            f"where episode_id = {ep}"
        ),
        columns=["observation_id", *names],
    ).set_index("observation_id")
    assert len(wide) == built.scalar(
        f"select count(*) from marts.observations where episode_id = {ep}"
    )
    with_values = wide.loc[floats.index, names].astype(float)
    pd.testing.assert_frame_equal(with_values, floats.astype(float), check_names=False)
    # observations without properties (env rows) are kept with NULL property columns
    rest = wide.drop(index=floats.index)
    assert len(rest) == 41 * 2 and rest.isna().all().all()


def test_frame_stats_count_every_agent(built: Warehouse) -> None:
    mismatches = built.query(
        "select f.episode_id, f.time_index from marts.frame_stats f "
        "join marts.episodes e using (episode_id) "
        "where f.num_agents <> e.num_agents or f.num_agents_with_speed <> e.num_agents"
    )
    assert mismatches == []
    assert built.scalar("select count(*) from marts.frame_stats") == 41 + 41 + 31


def test_frame_stats_spot_frame(built: Warehouse, sample_runs: Path) -> None:
    agents = agent_rows(sample_runs, RUN_A.folder_name, 0)
    frame = agents[agents.time == 12]
    got = built.query(
        "select mean_speed, min_speed, max_speed, mean_distance_to_target, centroid_y "
        f"from marts.frame_stats where episode_id = {episode_id(RUN_A.folder_name, 0)} "
        "and time_index = 12"
    )
    assert got == [
        approx(
            (
                frame.speed.mean(),
                frame.speed.min(),
                frame.speed.max(),
                frame.distance_to_target.mean(),
                frame.y.mean(),
            )
        )
    ]


@pytest.mark.parametrize(("run_name", "number"), [(RUN_A.folder_name, 0), (RUN_B.folder_name, 0)])
def test_window_stats_equal_pandas(
    built: Warehouse, sample_runs: Path, run_name: str, number: int
) -> None:
    agents = agent_rows(sample_runs, run_name, number)
    rows = built.query(
        "select metric, window_index, num_values, mean_value, stddev_value, min_value, "
        "max_value, p05_value, p25_value, median_value, p75_value, p95_value "
        f"from marts.window_stats where episode_id = {episode_id(run_name, number)} order by 1, 2"
    )
    expected = []
    # the sample episodes are shorter than the default window of 100 frames: one window
    for metric in sorted(["speed", "acceleration_magnitude", "distance_to_target"]):
        values = agents[metric].dropna()
        quantiles = values.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).tolist()
        stats = [values.mean(), values.std(), values.min(), values.max(), *quantiles]
        expected.append((metric, 0, len(values), *stats))
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got[:3] == want[:3]
        assert got[3:] == approx(want[3:])


def test_spatial_occupancy_counts(built: Warehouse, sample_runs: Path) -> None:
    agents = agent_rows(sample_runs, RUN_B.folder_name, 0)
    bins = np.floor(agents[["x", "y", "z"]].to_numpy() / 10.0).astype(int)
    keys, counts = np.unique(bins, axis=0, return_counts=True)
    expected = sorted(
        (*map(int, key), int(n), n / len(agents)) for key, n in zip(keys, counts, strict=True)
    )
    got = built.query(
        "select bin_x, bin_y, bin_z, num_observations, occupancy_fraction "
        f"from marts.spatial_occupancy where episode_id = {episode_id(RUN_B.folder_name, 0)} "
        "order by 1, 2, 3"
    )
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    assert [g[4] for g in got] == approx([e[4] for e in expected])


def test_episode_summary_equal_numpy(built: Warehouse, sample_runs: Path) -> None:
    agents = agent_rows(sample_runs, RUN_A.folder_name, 1)
    steps = agents.groupby("id")[["x", "y", "z"]].diff()
    path = np.sqrt((steps**2).sum(axis=1, min_count=3)).groupby(agents.id).sum()
    reached = agents[agents.distance_to_target <= REACH_DISTANCE].groupby("id").time.min()
    all_reached = reached.max() if len(reached) == RUN_A.num_agents else None
    got = built.query(
        "select num_agents, duration_frames, duration_seconds, total_path_length, "
        "mean_path_length, mean_speed, num_agents_reached, first_reach_frame, "
        "time_to_first_reach_seconds, all_reached_frame "
        f"from marts.episode_summary where episode_id = {episode_id(RUN_A.folder_name, 1)}"
    )
    first = reached.min() if len(reached) else None
    assert got == [
        (
            RUN_A.num_agents,
            40,
            approx(40 / 30),
            approx(path.sum()),
            approx(path.mean()),
            approx(agents.speed.mean()),
            len(reached),
            first,
            None if first is None else approx(first / 30),
            all_reached,
        )
    ]


def test_pairwise_spot_frame_equal_numpy(built: Warehouse, sample_runs: Path) -> None:
    agents = agent_rows(sample_runs, RUN_A.folder_name, 1)
    frame = agents[agents.time == 20]
    positions = frame[["x", "y", "z"]].to_numpy()
    distances = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=2)
    pairs = distances[np.triu_indices(len(frame), k=1)]
    np.fill_diagonal(distances, np.inf)
    nearest = distances.min(axis=1)
    velocity = frame[VELOCITY].to_numpy()
    headings = velocity / np.linalg.norm(velocity, axis=1, keepdims=True)
    got = built.query(
        "select num_agents, num_pairs, mean_nearest_neighbour_distance, "
        "min_nearest_neighbour_distance, max_nearest_neighbour_distance, "
        "mean_pairwise_distance, polarisation from marts.pairwise_frame_stats "
        f"where episode_id = {episode_id(RUN_A.folder_name, 1)} and time_index = 20"
    )
    expected = [nearest.mean(), nearest.min(), nearest.max(), pairs.mean()]
    expected.append(np.linalg.norm(headings.mean(axis=0)))
    assert [row[:2] for row in got] == [(6, 15)]
    assert got[0][2:] == approx(tuple(expected))


def test_velocity_correlation_equal_pandas(built: Warehouse, sample_runs: Path) -> None:
    agents = agent_rows(sample_runs, RUN_B.folder_name, 0)
    a, b = (agents[agents.id == i].set_index("time") for i in (1, 3))
    cosine = (a[VELOCITY] * b[VELOCITY]).sum(axis=1) / (a.speed * b.speed)
    got = built.query(
        "select num_common_frames, velocity_correlation_x, velocity_correlation_y, "
        "velocity_correlation_z, heading_alignment from marts.agent_pair_velocity_correlation "
        f"where episode_id = {episode_id(RUN_B.folder_name, 0)} and agent_id_a = 1 and agent_id_b = 3"
    )
    expected = [a[v].corr(b[v]) for v in VELOCITY] + [cosine.mean()]
    assert [row[0] for row in got] == [31]
    assert got[0][1:] == approx(tuple(expected))
    num_agents = RUN_A.num_agents
    assert (
        built.scalar(
            "select count(*) from marts.agent_pair_velocity_correlation "
            f"where episode_id = {episode_id(RUN_A.folder_name, 0)}"
        )
        == num_agents * (num_agents - 1) // 2
    )
