"""The explore dashboard (grafana/dashboards/explore.json): its query-time answers, for
several values of each of its variables, equal a direct computation from the marts' rows
(numpy), on the 3D and the tracking sample data, as the Grafana role; and a hostile value in
any of its boxes or choices fails cleanly or matches nothing.

tests/test_grafana_panels.py runs every panel of every dashboard, this one included, for the
default values of each context."""

from __future__ import annotations

import itertools
import math

import numpy as np
import psycopg2
import pytest

from grafana.panel_queries import (
    Value,
    all_panels,
    interpolate,
    load_dashboards,
    resolve_variables,
    run,
)
from tests.samples import RUN_3D, TRACKING

Connection = psycopg2.extensions.connection
DASHBOARD = load_dashboards()["explore.json"]
SESSIONS = {"3d": f"{RUN_3D.prefix}-started-{RUN_3D.started}", "tracking": TRACKING.folder_name}
HOSTILE = "1); drop table marts.sessions; --"


def explore(
    connection: Connection,
    data: str,
    scope: str = "episode",
    *,
    picks: dict[str, str] | None = None,
    **textboxes: str,
) -> dict[str, Value]:
    """The dashboard's variables as a user sets them: a session of the sample `data`, its
    first episode, the scope, other picks (property, quantiles) and text boxes."""
    chosen = {"session": SESSIONS[data], "scope": scope, **(picks or {})}
    return resolve_variables(DASHBOARD, connection, chosen, textboxes)


def panel_rows(connection: Connection, title: str, values: dict[str, Value]) -> list[dict]:
    """The rows of a panel's query, as dicts."""
    panel = next(p for p in all_panels(DASHBOARD) if p["title"] == title)
    columns, rows = run(connection, interpolate(panel["targets"][0]["rawSql"], values))
    return [dict(zip(columns, row, strict=True)) for row in rows]


def number(values: dict[str, Value], name: str) -> float:
    return float(values[name].values[0])


def agent_rows(connection: Connection, values: dict[str, Value], columns: str) -> list[tuple]:
    """`columns` of the wide model's agent rows (all non-environment types) of the episodes in
    scope and the frame range: the direct reading the panels are checked against."""
    with connection.cursor() as cur:
        cur.execute(
            f"""select {columns}
            from marts.observation_properties_wide as w
            inner join marts.agent_types as t using (agent_type_id)
            inner join marts.episodes as e using (episode_id)
            inner join marts.categories as c on c.category_id = e.category_id
            where not t.is_environment and w.episode_id = any(%s)
                and w.time_index between %s and %s
            order by w.episode_id, w.time_index, w.agent_type_id, w.agent_id""",
            (
                [int(v) for v in values["scope_episodes"].values],
                int(number(values, "range_start")),
                int(number(values, "range_end")),
            ),
        )
        return cur.fetchall()


CONTEXTS = [
    (data, scope, bin_size)
    for data, scope, bin_size in itertools.product(SESSIONS, ("episode", "session"), ("", "7.5"))
]


@pytest.mark.parametrize(("data", "scope", "bin_size"), CONTEXTS)
def test_density_counts_each_observation_of_the_scope_once(
    grafana_connection: Connection, data: str, scope: str, bin_size: str
) -> None:
    values = explore(grafana_connection, data, scope, bin=bin_size)
    cell = number(values, "bin_size")
    if bin_size:
        assert cell == float(bin_size)
    points = agent_rows(
        grafana_connection,
        values,
        "w.x, case when c.top_down_axis = 'z' then w.z else w.y end",
    )
    cells: dict[tuple[int, int], int] = {}
    for x, up in points:
        key = (math.floor(x / cell), math.floor(up / cell))
        cells[key] = cells.get(key, 0) + 1
    with grafana_connection.cursor() as cur:
        cur.execute(
            "select count(*) from marts.episodes where session_id = %s", values["session"].values
        )
        in_session = cur.fetchone()[0]
    assert len(values["scope_episodes"].values) == (1 if scope == "episode" else in_session)
    for min_count in (1, 3):
        values = explore(grafana_connection, data, scope, bin=bin_size, min_count=str(min_count))
        grid = panel_rows(grafana_connection, "Density", values)
        shown = {
            (round(r["x"] / cell), round(r["y"] / cell)): r["count"] for r in grid if r["count"]
        }
        assert shown == {key: n for key, n in cells.items() if n >= min_count}
    assert sum(cells.values()) == len(points) > 0


@pytest.mark.parametrize(
    ("scope", "prop", "window"),
    [
        ("episode", "speed", "10"),
        ("session", "speed", "25"),
        ("episode", "acceleration_magnitude", "7"),
    ],
)
def test_property_windows_and_histogram_equal_numpy(
    grafana_connection: Connection, scope: str, prop: str, window: str
) -> None:
    picks = {"property": prop, "quantiles": "0.25,0.75"}
    values = explore(grafana_connection, "3d", scope, picks=picks, window=window, frame_from="3")
    start, length = int(number(values, "range_start")), int(window)
    assert start == 3
    rows = agent_rows(grafana_connection, values, f"w.time_index, w.{prop}")
    series: dict[int, list[float]] = {}
    for frame, value in rows:
        if value is not None:
            series.setdefault(start + (frame - start) // length * length, []).append(value)
    shown: dict[int, dict[str, float]] = {}
    for r in panel_rows(grafana_connection, "Property per window: mean and quantiles", values):
        shown.setdefault(r["frame"], {})[r["series"]] = r["value"]
    assert sorted(shown) == sorted(series)
    for frame, window_values in series.items():
        expected = {
            "mean": np.mean(window_values),
            "q0.25": np.quantile(window_values, 0.25),
            "q0.75": np.quantile(window_values, 0.75),
        }
        assert shown[frame] == pytest.approx(expected, rel=1e-9), frame
    histogram = panel_rows(grafana_connection, "Property distribution", values)
    assert sum(r["count"] for r in histogram) == sum(map(len, series.values()))
    assert float(histogram[0]["bin"]) == pytest.approx(min(map(min, series.values())), abs=1e-4)


@pytest.mark.parametrize("data", SESSIONS)
def test_pairwise_quartiles_and_relative_velocity_of_each_frame_equal_numpy(
    grafana_connection: Connection, data: str
) -> None:
    values = explore(grafana_connection, data, frame_from="2", frame_to="12")
    rows = agent_rows(
        grafana_connection,
        values,
        "w.time_index, w.x, w.y, coalesce(w.z, 0), w.v_x, w.v_y, coalesce(w.v_z, 0)",
    )
    distances = {
        r["frame"]: r
        for r in panel_rows(
            grafana_connection, "Pairwise distances: median and interquartile range", values
        )
    }
    relative = {
        r["frame"]: r
        for r in panel_rows(
            grafana_connection, "Relative velocity |v_i - v_j|: median and mean", values
        )
    }
    frames = 0
    for frame, group in itertools.groupby(rows, key=lambda r: r[0]):
        agents = np.array([r[1:] for r in group], dtype=float)
        if len(agents) < 2:
            assert frame not in distances
            continue
        i, j = np.triu_indices(len(agents), k=1)
        pair_distances = np.linalg.norm(agents[i, :3] - agents[j, :3], axis=1)
        q25, q50, q75 = np.quantile(pair_distances, [0.25, 0.5, 0.75])
        got = distances[frame]
        assert (got["p25"], got["median"], got["p75"]) == pytest.approx((q25, q50, q75), rel=1e-9)
        moving = ~np.isnan(agents[:, 3:]).any(axis=1)
        speeds = np.linalg.norm(agents[i, 3:] - agents[j, 3:], axis=1)[moving[i] & moving[j]]
        if len(speeds):
            assert (relative[frame]["median"], relative[frame]["mean"]) == pytest.approx(
                (np.median(speeds), np.mean(speeds)), rel=1e-9
            )
        frames += 1
    assert frames == len(distances) >= 5


@pytest.mark.parametrize(
    "frames",
    [{}, {"frame_from": "10", "frame_to": "80"}],
    ids=["whole episode (the mart)", "part of it (at query time)"],
)
def test_distance_to_target_correlation_of_each_pair_equals_numpy(
    grafana_connection: Connection, frames: dict[str, str]
) -> None:
    values = explore(grafana_connection, "3d", min_shared="5", **frames)
    rows = agent_rows(
        grafana_connection,
        values,
        "w.agent_type_id, w.agent_id, w.time_index, w.distance_to_target",
    )
    tracks: dict[tuple[int, int], dict[int, float]] = {}
    for type_id, agent, frame, distance in rows:
        if distance is not None:
            tracks.setdefault((type_id, agent), {})[frame] = distance
    shown = panel_rows(
        grafana_connection,
        "Agent pairs: correlation of distance to target, and of velocity",
        values,
    )
    assert len(shown) == math.comb(len(tracks), 2) > 0
    for r in shown:
        a, b = tracks[(r["type_a"], r["agent_a"])], tracks[(r["type_b"], r["agent_b"])]
        shared = sorted(a.keys() & b.keys())
        assert r["shared_frames"] == len(shared)
        expected = np.corrcoef([a[f] for f in shared], [b[f] for f in shared])[0, 1]
        assert r["distance_correlation"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert r["velocity_correlation_x"] is not None
    most = max(r["shared_frames"] for r in shown)
    too_many = explore(grafana_connection, "3d", min_shared=str(most + 1), **frames)
    assert (
        panel_rows(
            grafana_connection,
            "Agent pairs: correlation of distance to target, and of velocity",
            too_many,
        )
        == []
    )


@pytest.mark.parametrize("data", SESSIONS)
def test_trails_show_each_agent_over_the_trail_frames(
    grafana_connection: Connection, data: str
) -> None:
    values = explore(grafana_connection, data, frame="20", trail="5")
    rows = agent_rows(grafana_connection, values, "w.agent_type_id, w.agent_id, w.time_index")
    expected = sorted((f"{t}:{a}", f) for t, a, f in rows if 16 <= f <= 20)
    trail = panel_rows(grafana_connection, "Trails: x and y", values)
    assert sorted((r["agent"], r["frame"]) for r in trail) == expected
    assert len(expected) > 5


@pytest.mark.parametrize("box", ["bin", "min_count", "window", "min_shared", "trail", "frame_from"])
def test_a_hostile_box_fails_the_cast(grafana_connection: Connection, box: str) -> None:
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        explore(grafana_connection, "3d", **{box: HOSTILE})
    with grafana_connection.cursor() as cur:
        cur.execute("select count(*) from marts.sessions")
        assert cur.fetchone()[0] > 0


def test_a_hostile_choice_matches_nothing_or_fails_the_cast(grafana_connection: Connection) -> None:
    values = explore(grafana_connection, "3d")
    hostile_property = {**values, "property": Value(["speed' or '1' = '1"], multi=False)}
    for title in ("Property per window: mean and quantiles", "Property distribution"):
        assert panel_rows(grafana_connection, title, hostile_property) == []
    hostile_quantiles = {**values, "quantiles": Value(["0.5", HOSTILE], multi=True)}
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        panel_rows(grafana_connection, "Property per window: mean and quantiles", hostile_quantiles)
    # a scope that is not "session" is the episode alone
    scope_query = next(v for v in DASHBOARD["templating"]["list"] if v["name"] == "scope_episodes")
    hostile_scope = {**values, "scope": Value(["session' or 'x' = 'x"], multi=False)}
    _, rows = run(grafana_connection, interpolate(scope_query["query"], hostile_scope))
    assert [r[0] for r in rows] == values["scope_episodes"].values
