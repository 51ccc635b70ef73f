"""Grafana panels against real marts: every panel's SQL runs on a Postgres warehouse built
(real extract CLI, real `dbt build`) from generated files of every source family, as the
Grafana role the dbt hook created.

The dashboard variables are resolved by running the dashboards' own variable queries and
Grafana's variable formats and macros are expanded (grafana/panel_queries.py). Each query must
return rows (unless the panel shows data the episode cannot have, listed in MAY_BE_EMPTY) with
every field the panel's options, field overrides and transformations name, the transformations
applied to the field names as Grafana applies them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

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
from tests.samples import (
    FOOD_2D,
    FOOD_ROLLOUT_2D,
    PLAIN_2D,
    ROLLOUT_2D,
    RUN_3D,
    TRACKING,
)

Connection = psycopg2.extensions.connection


@dataclass(frozen=True)
class Context:
    """What a user picks: a session, an episode (by name; None: the first) and frame boxes."""

    label: str
    session: str
    episode: str | None = None
    textboxes: tuple[tuple[str, str], ...] = ()


RUN_3D_FOLDER = f"{RUN_3D.prefix}-started-{RUN_3D.started}"
EPISODE_CONTEXTS = {
    context.label: context
    for context in [
        Context("3d", RUN_3D_FOLDER, "episode-1"),
        Context(
            "3d-range",
            RUN_3D_FOLDER,
            "episode-0",
            (("frame_from", "5"), ("frame_to", " 25 "), ("frame", "12")),
        ),
        Context("2d", PLAIN_2D.name, "sample-1"),
        Context("2d-food", FOOD_2D.name, "sample-0"),
        Context("tracking-bboxes", TRACKING.folder_name, "rgb_1/rgb_1_tracked_bboxes.csv"),
        Context("tracking-tracks", TRACKING.folder_name, "thermal_1/thermal_1_tracks.csv"),
        Context("tracking-centroids", TRACKING.folder_name, "rgb_1/rgb_1_tracked_centroids_3d.csv"),
        Context("2d-rollout", ROLLOUT_2D.save_name, "e0-b0-t1-predicted"),
    ]
}
SESSION_CONTEXTS = [
    Context("3d", RUN_3D_FOLDER),
    Context("2d", PLAIN_2D.name),
    Context("2d-food", FOOD_2D.name),
    Context("tracking", TRACKING.folder_name),
]
# The rollout dashboard: its session is a rollout, its episode a trajectory (picked by name).
ROLLOUT_CONTEXTS = [
    Context("rollout", ROLLOUT_2D.save_name, "e0-b0-t1"),  # no edges: zero attention
    Context("rollout-food", FOOD_ROLLOUT_2D.save_name, "e0-b1-t0"),
]
DASHBOARD_CONTEXTS = {"rollouts.json": ROLLOUT_CONTEXTS}
NO_TARGETS = {
    "2d",
    "2d-rollout",
    "tracking",
    "tracking-bboxes",
    "tracking-tracks",
    "tracking-centroids",
}
NO_BOXES = {
    "3d",
    "3d-range",
    "2d",
    "2d-food",
    "2d-rollout",
    "tracking-tracks",
}
NO_Z = {"2d", "2d-food", "2d-rollout", "tracking-bboxes", "tracking-tracks"}
TRACKING_EPISODES = "Tracking episodes: cameras and derivation"
# (dashboard file, panel title) -> contexts where the panel may legitimately have no rows: it
# shows data those episodes do not have (the panels' descriptions say so).
MAY_BE_EMPTY = {
    ("overview.json", "Distance to target: mean, min, max"): NO_TARGETS,
    ("overview.json", "Detection confidence"): NO_BOXES,
    ("overview.json", "Bounding box size"): NO_BOXES,
    ("windows.json", "Distance to target per window"): NO_TARGETS,
    ("episodes.json", "Mean distance to target over frames"): NO_TARGETS,
    ("episodes.json", TRACKING_EPISODES): {"3d", "2d", "2d-food"},
    ("explore.json", "Agent pairs: correlation of distance to target, and of velocity"): (
        NO_TARGETS
    ),
    ("explore.json", "Trails: x and z"): NO_Z,
    ("explore.json", "Trails: z and y"): NO_Z,
}


def context_values(
    dashboard: dict[str, Any], context: Context, connection: Connection
) -> dict[str, Value]:
    """Every variable's value for the context (Grafana's resolution: grafana/panel_queries.py)."""
    picks = {"session": context.session, "episode": context.episode}
    return resolve_variables(dashboard, connection, picks, dict(context.textboxes))


def panel_result(
    name: str, title: str, context: Context, connection: Connection
) -> tuple[list[str], list]:
    """Columns and rows of the panel `title` of the dashboard file `name` for one context."""
    dashboard = load_dashboards()[name]
    panel = next(p for p in all_panels(dashboard) if p["title"] == title)
    values = context_values(dashboard, context, connection)
    return run(connection, interpolate(panel["targets"][0]["rawSql"], values))


# --- what a panel's configuration expects of the query result ---------------------------------


def js_string(value: object) -> str:
    """A value as JavaScript's toString writes it (field names made from values)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def transformed_fields(
    panel: dict[str, Any], columns: list[str], rows: list
) -> tuple[list[str], list[str]]:
    """The field names after the panel's transformations, and any reference to a missing
    field (transformations applied the way Grafana does, as far as names go)."""
    names = list(columns)
    missing: list[str] = []

    def need(*fields: str) -> None:
        missing.extend(f"{panel['title']}: {f}" for f in fields if f not in names)

    for transformation in panel.get("transformations", []):
        options = transformation["options"]
        kind = transformation["id"]
        if kind == "groupingToMatrix":
            row, column, value = options["rowField"], options["columnField"], options["valueField"]
            need(row, column, value)
            if missing:
                return names, missing
            index = columns.index(column)
            series = list(dict.fromkeys(js_string(r[index]) for r in rows))
            names = [f"{row}\\{column}", *series]
        elif kind == "convertFieldType":
            need(*(c["targetField"] for c in options["conversions"]))
        elif kind == "organize":
            need(*options["renameByName"], *options["excludeByName"])
            excluded = {k for k, v in options["excludeByName"].items() if v}
            names = [options["renameByName"].get(n, n) for n in names if n not in excluded]
        elif kind == "partitionByValues":
            need(*options["fields"])
            if not options.get("keepFields", False):
                names = [n for n in names if n not in options["fields"]]
        elif kind == "joinByField":
            need(options["byField"])
        else:
            raise AssertionError(f"transformation {kind} is not simulated by this test")
    return names, missing


def referenced_fields(panel: dict[str, Any]) -> list[str]:
    """Field names the panel's options and overrides refer to."""
    options = panel.get("options", {})
    fields = []
    if panel["type"] in ("trend", "barchart"):
        fields.append(options["xField"])
    if panel["type"] == "xychart":
        for series in options["series"]:
            for dimension in ("x", "y", "color", "size"):
                if dimension in series:
                    matcher = series[dimension]["matcher"]
                    assert matcher["id"] == "byName"
                    fields.append(matcher["options"])
    for override in panel["fieldConfig"]["overrides"]:
        assert override["matcher"]["id"] == "byName"
        fields.append(override["matcher"]["options"])
        for prop in override["properties"]:
            if prop["id"] == "custom.fillBelowTo":
                fields.append(prop["value"])
    return fields


def check_panel_result(
    name: str, panel: dict[str, Any], context: Context, columns: list, rows: list
) -> list[str]:
    """Problems of one panel's result for one context (`name`: the dashboard's file)."""
    if not rows:
        if context.label in MAY_BE_EMPTY.get((name, panel["title"]), set()):
            return []
        return [f"{panel['title']}: no rows for {context.label}"]
    names, problems = transformed_fields(panel, columns, rows)
    problems += [
        f"{panel['title']}: no field {field!r} for {context.label} (fields {names})"
        for field in referenced_fields(panel)
        if field not in names
    ]
    if panel["type"] == "trend":
        # the Trend panel needs a strictly rising numeric x: the frames in row order (one row
        # per frame, or per frame and series when a pivot makes one row of each frame)
        frames = [r[columns.index("frame")] for r in rows]
        if panel.get("transformations"):
            frames = list(dict.fromkeys(frames))
        if any(b <= a for a, b in itertools.pairwise(frames)):
            problems.append(f"{panel['title']}: frames not strictly rising for {context.label}")
    return problems


# --- the panels against the warehouse ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(load_dashboards()))
def test_every_panel_query_runs_as_grafana_and_fits_its_panel(
    name: str, grafana_connection: Connection
) -> None:
    dashboard = load_dashboards()[name]
    has_episode = any(v["name"] == "episode" for v in dashboard["templating"]["list"])
    contexts = DASHBOARD_CONTEXTS.get(name) or (
        list(EPISODE_CONTEXTS.values()) if has_episode else SESSION_CONTEXTS
    )
    problems: list[str] = []
    checked = 0
    for context in contexts:
        values = context_values(dashboard, context, grafana_connection)
        for panel in all_panels(dashboard):
            for target in panel.get("targets", []):
                statement = interpolate(target["rawSql"], values)
                try:
                    columns, rows = run(grafana_connection, statement)
                except psycopg2.Error as exc:
                    problems.append(f"{panel['title']} ({context.label}): {exc}".strip())
                    continue
                problems += check_panel_result(name, panel, context, columns, rows)
                checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= len(contexts) * 5


def test_2d_and_tracking_panels_show_no_z_and_boxes_where_there_are_boxes(
    grafana_connection: Connection,
) -> None:
    state = "Agent state at the chosen frame"
    expect = {
        "3d": ({"z", "v_z", "distance_to_target"}, {"bbox_x1", "confidence"}),
        "2d": (set(), {"z", "v_z", "distance_to_target", "bbox_x1"}),
        "2d-food": ({"distance_to_target"}, {"z", "v_z", "bbox_x1"}),
        "tracking-bboxes": ({"bbox_x1", "confidence", "detection_class"}, {"z", "v_z"}),
        "tracking-tracks": (set(), {"z", "bbox_x1", "distance_to_target"}),
        "tracking-centroids": ({"z", "v_z", "bbox_x1", "confidence"}, {"distance_to_target"}),
    }
    for label, (present, absent) in expect.items():
        context = EPISODE_CONTEXTS[label]
        columns, rows = panel_result("spatial.json", state, context, grafana_connection)
        assert rows, label
        assert present <= set(columns) and not absent & set(columns), (label, columns)
        _, centroid = panel_result(
            "overview.json", "Centroid of the agents", context, grafana_connection
        )
        axes = {r[1] for r in centroid}
        assert axes == ({"x", "y", "z"} if "z" in present else {"x", "y"}), (label, axes)


def test_tracking_episodes_panel_shows_what_derives_from_what(
    grafana_connection: Connection,
) -> None:
    context = SESSION_CONTEXTS[-1]
    columns, rows = panel_result("episodes.json", TRACKING_EPISODES, context, grafana_connection)
    shown = [r[columns.index("episode") : columns.index("tracks") + 1] for r in rows]
    assert [tuple(r[:4]) for r in shown] == [
        ("rgb_1/rgb_1_tracked_bboxes.csv", "rgb_1", "rgb", "thermal_1/thermal_1_tracks.csv"),
        (
            "rgb_1/rgb_1_tracked_centroids_3d.csv",
            "rgb_1",
            "rgb",
            "rgb_1/rgb_1_tracked_bboxes.csv",
        ),
        ("thermal_1/thermal_1_tracks.csv", "thermal_1", "thermal", None),
        ("thermal_2/thermal_2_tracks.csv", "thermal_2", "thermal", None),
    ]
    tracks = {r[0]: r[4] for r in shown}
    assert tracks["thermal_2/thermal_2_tracks.csv"] == 0
    assert tracks["rgb_1/rgb_1_tracked_bboxes.csv"] == tracks["thermal_1/thermal_1_tracks.csv"] > 0
    also_named = rows[0][columns.index("also named")]
    assert also_named == "tracked_bboxes_1.csv"


def test_frame_boxes_choose_the_frames(grafana_connection: Connection) -> None:
    context = EPISODE_CONTEXTS["3d-range"]
    columns, rows = panel_result("overview.json", "Agents observed", context, grafana_connection)
    frames = [r[columns.index("frame")] for r in rows]
    assert (frames[0], frames[-1], len(frames)) == (5, 25, 21)
    columns, rows = panel_result(
        "windows.json", "Before / from the chosen frame", context, grafana_connection
    )
    assert [r[0] for r in rows] == ["before frame 12", "from frame 12"]
    assert [(r[1], r[2]) for r in rows] == [(5, 11), (12, 25)]


def test_target_distance_panels_agree_with_frame_stats(grafana_connection: Connection) -> None:
    """The panels reading the wide model's distance_to_target (per-frame maximum, agent state,
    before / from) agree with frame_stats' mean and minimum of the same agents."""
    for label, frame in [("3d-range", 12), ("2d-food", None)]:
        context = EPISODE_CONTEXTS[label]
        _, rows = panel_result(
            "overview.json", "Distance to target: mean, min, max", context, grafana_connection
        )
        assert rows, label
        assert all(low <= mean <= high for _, mean, low, high in rows), label
        columns, periods = panel_result(
            "windows.json", "Before / from the chosen frame", context, grafana_connection
        )
        lowest = columns.index("min distance to target")
        assert min(p[lowest] for p in periods) == min(r[2] for r in rows), label
        if frame is None:
            continue
        columns, agents = panel_result(
            "spatial.json", "Agent state at the chosen frame", context, grafana_connection
        )
        distances = [a[columns.index("distance_to_target")] for a in agents]
        at_frame = next(r for r in rows if r[0] == frame)
        assert (min(distances), max(distances)) == (at_frame[2], at_frame[3]), label


def test_rollout_panels_pair_the_trajectory_with_its_truth(grafana_connection: Connection) -> None:
    context = ROLLOUT_CONTEXTS[0]
    columns, rows = panel_result(
        "rollouts.json", "Actual and predicted paths", context, grafana_connection
    )
    roles = [r[columns.index("predicted")] for r in rows]
    n = sum(PLAIN_2D.species_counts)
    assert roles.count(0) == roles.count(1) == ROLLOUT_2D.frames * n
    columns, rows = panel_result(
        "rollouts.json", "Error growth: this trajectory", context, grafana_connection
    )
    assert rows[0][columns.index("mean_error")] == 0.0  # the model starts from the truth
    assert [r[0] for r in rows] == list(
        range(ROLLOUT_2D.start_frame, ROLLOUT_2D.start_frame + ROLLOUT_2D.frames)
    )
    columns, rows = panel_result(
        "rollouts.json", "Attention of the chosen agent", context, grafana_connection
    )
    assert {(r[1], r[2], r[3]) for r in rows} == {(0.0, 0.0, None)}  # no edges, no food agent
