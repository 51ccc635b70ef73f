"""Write the Grafana dashboards in grafana/dashboards/ from the definitions below.

`python grafana/generate_dashboards.py` rewrites the four JSON files; tests/test_grafana.py
fails when they differ from what this module generates, so edit the SQL here (readable, with
comments) rather than in the JSON. A dashboard changed in the Grafana UI can be exported and
its queries copied back here.

Design (grafana/README.md): the x axis is frames, not time. Frame-indexed panels are Trend
panels (`type: trend`, a numeric ascending x field named `frame`); the dashboard time picker is
hidden and no query uses the time range. The frame range comes from the `frame_from` /
`frame_to` text boxes through the hidden variables `range_start` / `range_end`. Series per
agent or per episode are queried in long form (frame, series, value) and pivoted by the
"Grouping to matrix" transformation. Every panel reads schema `marts` through the datasource
of grafana/provisioning/datasources/, uid `tracking-marts`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE_UID = "tracking-marts"
DATASOURCE_TYPE = "grafana-postgresql-datasource"
DATASOURCE = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
# Panels carry the version they were written for: without one, Grafana would migrate the XY
# chart options from the pre-10.4 format.
GRAFANA_VERSION = "11.6.0"
SCHEMA_VERSION = 39
TAG = "trajectory-warehouse"

Json = dict[str, Any]

# --- SQL building blocks ----------------------------------------------------------------------

RANGE = "time_index between $range_start and $range_end"
# The non-environment agents of the chosen types, for queries over `w` (a table with
# agent_type_id); needs `inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id`.
AGENTS_OF_TYPES = "not t.is_environment and w.agent_type_id in ($agent_type)"


def target_distances(observations: str) -> str:
    """CTE `target_distances`: the distance of each agent observation of the episode chosen by
    `observations` (a condition on marts.observations as o) to its nearest target, as the
    analytics marts define it (var target_distance_properties at its default: every 3D
    target's mesh distance, the 2D food distance), with the observation's frame and agent
    type. frame_stats has its mean and min per frame, not its max, and the wide model's
    per-target columns depend on the number of targets.

    The values are read per property id through the (episode_id, property_id) index: a
    lateral subquery, kept from being flattened into a join by `offset 0`, since the planner
    cannot tell how few rows the property ids select and otherwise reads all of the episode's
    values (half the time of the windowed-statistics panels, docs/benchmarks.md)."""
    return f"""target_distances as (
    select
        o.observation_id,
        o.time_index,
        o.agent_type_id,
        min(ep.value_float) as distance_to_target
    from marts.observations as o
    inner join (
        select v.observation_id, v.value_float
        from marts.property_definitions as pd
        cross join lateral (
            select e.observation_id, e.value_float
            from marts.extended_properties as e
            where e.episode_id = $episode and e.property_id = pd.property_id
            offset 0
        ) as v
        where pd.base_property_id in ('distance_to_target_mesh', 'distance_to_food')
    ) as ep on ep.observation_id = o.observation_id
    where o.episode_id = $episode and {observations}
    group by o.observation_id, o.time_index, o.agent_type_id
)"""


TARGET_DISTANCES_IN_RANGE = target_distances(f"o.{RANGE}")
TARGET_DISTANCES_AT_FRAME = target_distances("o.time_index = $at_frame")

# Top-down plane of a position: (x, z) for 3D boids, whose y is the height; (x, y) otherwise.
PLANE_V = "case when episode.category_id = 'boids_3d' then {z} else {y} end"


def plane(prefix: str = "") -> str:
    """The vertical coordinate of the top-down plane for columns with `prefix`."""
    return PLANE_V.format(z=f"{prefix}z", y=f"{prefix}y")


# --- variables --------------------------------------------------------------------------------


def query_variable(
    name: str,
    label: str,
    sql: str,
    *,
    multi: bool = False,
    hide: int = 0,
    description: str = "",
) -> Json:
    """A query variable on the marts datasource (refreshed on dashboard load and whenever a
    variable it uses changes). Keys are returned as text: BIGINT ids do not survive the trip
    through JavaScript numbers."""
    variable: Json = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": sql,
        "definition": sql,
        "refresh": 1,
        "sort": 0,
        "hide": hide,
        "multi": multi,
        "includeAll": multi,
        "options": [],
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if multi else {},
        "regex": "",
        "skipUrlSync": False,
    }
    if description:
        variable["description"] = description
    return variable


def textbox_variable(name: str, label: str, description: str, default: str = "") -> Json:
    """A free-text variable; empty means "the default" (the queries say which)."""
    return {
        "name": name,
        "label": label,
        "type": "textbox",
        "query": default,
        "current": {"selected": False, "text": default, "value": default},
        "options": [{"selected": True, "text": default, "value": default}],
        "hide": 0,
        "description": description,
        "skipUrlSync": False,
    }


SESSION = query_variable(
    "session",
    "Session",
    "select session_name as __text, cast(session_id as text) as __value\n"
    "from marts.sessions\norder by session_name",
    description="A 3D run folder, a 2D dataset file or a tracking session folder.",
)
EPISODE = query_variable(
    "episode",
    "Episode",
    "select episode_name as __text, cast(episode_id as text) as __value\n"
    "from marts.episodes\nwhere session_id = $session\norder by episode_number",
    description="An episode of the session (3D: a parquet file; 2D: a sample; tracking: a "
    "camera file).",
)
EPISODES = query_variable(
    "episodes",
    "Episodes",
    "select episode_name as __text, cast(episode_id as text) as __value\n"
    "from marts.episodes\nwhere session_id = $session\norder by episode_number",
    multi=True,
    description="The episodes of the session to compare (default: all).",
)
AGENT_TYPE = query_variable(
    "agent_type",
    "Agent type",
    "select distinct o.agent_type_id\n"
    "from marts.observations as o\n"
    "inner join marts.agent_types as t on t.agent_type_id = o.agent_type_id\n"
    "where o.episode_id = $episode and not t.is_environment\norder by 1",
    multi=True,
    description="Filters the panels that show individual agents (their descriptions say "
    "'the chosen agent types'); the per-frame and per-window statistics are over all agents.",
)
FRAME_FROM = textbox_variable(
    "frame_from", "From frame", "First frame shown (empty: the episode's first frame)."
)
FRAME_TO = textbox_variable(
    "frame_to", "To frame", "Last frame shown, inclusive (empty: the episode's last frame)."
)
RANGE_START = query_variable(
    "range_start",
    "First frame",
    "select coalesce(cast(nullif(trim(${frame_from:sqlstring}), '') as bigint), first_frame)\n"
    "from marts.episodes\nwhere episode_id = $episode",
    hide=2,
)
RANGE_END = query_variable(
    "range_end",
    "Last frame",
    "select coalesce(cast(nullif(trim(${frame_to:sqlstring}), '') as bigint), last_frame)\n"
    "from marts.episodes\nwhere episode_id = $episode",
    hide=2,
)
# The comparison dashboard has no single episode: open bounds instead of the episode's.
ANY_RANGE_START = query_variable(
    "range_start",
    "First frame",
    "select coalesce(cast(nullif(trim(${frame_from:sqlstring}), '') as bigint), 0)",
    hide=2,
)
ANY_RANGE_END = query_variable(
    "range_end",
    "Last frame",
    "select coalesce(cast(nullif(trim(${frame_to:sqlstring}), '') as bigint), 9223372036854775807)",
    hide=2,
)
FRAME = textbox_variable(
    "frame",
    "At frame",
    "The frame of the agent-state panels and the split of the before/after panels (empty: "
    "the middle of the frame range).",
)
AT_FRAME = query_variable(
    "at_frame",
    "Chosen frame",
    "select coalesce(cast(nullif(trim(${frame:sqlstring}), '') as bigint), "
    "($range_start + $range_end) / 2)",
    hide=2,
)
# The columns of the agent-state table: z, v_z, the distance to target and the tracking box
# columns only where the episode has them (a 2D or tracking episode shows no z column).
STATE_COLUMNS = query_variable(
    "state_columns",
    "Agent state columns",
    """select concat_ws(', ',
    'w.x', 'w.y',
    case when bool_or(w.z is not null) then 'w.z' end,
    'w.v_x', 'w.v_y',
    case when bool_or(w.v_z is not null) then 'w.v_z' end,
    'w.speed', 'w.acceleration_magnitude',
    case when bool_or(w.distance_to_target_mesh is not null or w.distance_to_food is not null)
        then 'td.distance_to_target' end,
    case when bool_or(w.bbox_x1 is not null or w.confidence is not null)
        then 'w.bbox_x1, w.bbox_y1, w.bbox_x2, w.bbox_y2, w.confidence, w.detection_class' end)
from marts.observation_properties_wide as w
where w.episode_id = $episode""",
    hide=2,
)

# --- panels -----------------------------------------------------------------------------------


def sql_target(sql: str, ref_id: str = "A") -> Json:
    """A raw SQL query returning a table."""
    return {
        "refId": ref_id,
        "datasource": DATASOURCE,
        "editorMode": "code",
        "format": "table",
        "rawQuery": True,
        "rawSql": sql,
    }


def panel(kind: str, title: str, description: str, sql: str | None, **extra: Any) -> Json:
    """A panel; `w`/`h` (grid units) are consumed by the layout."""
    result: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "w": extra.pop("w", 12),
        "h": extra.pop("h", 8),
        "pluginVersion": GRAFANA_VERSION,
    }
    if sql is not None:
        result["datasource"] = DATASOURCE
        result["targets"] = [sql_target(sql)]
    result.update(extra)
    return result


def graph_defaults(axis_label: str, unit: str = "none", **custom: Any) -> Json:
    """Field defaults of a line chart (Trend)."""
    return {
        "defaults": {
            "unit": unit,
            "color": {"mode": "palette-classic"},
            "custom": {
                "drawStyle": "line",
                "lineInterpolation": custom.pop("lineInterpolation", "linear"),
                "lineWidth": custom.pop("lineWidth", 1),
                "fillOpacity": custom.pop("fillOpacity", 0),
                "showPoints": "auto",
                "spanNulls": False,
                "axisLabel": axis_label,
                "axisPlacement": "auto",
                **custom,
            },
        },
        "overrides": [],
    }


def by_name(name: str, **properties: Any) -> Json:
    """A field override for the field named `name`."""
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key.replace("__", "."), "value": v} for key, v in properties.items()],
    }


def trend(
    title: str,
    description: str,
    sql: str,
    axis_label: str,
    *,
    overrides: list[Json] | None = None,
    transformations: list[Json] | None = None,
    legend: bool = True,
    **custom: Any,
) -> Json:
    """A frame-indexed line chart: the Trend panel, x = the `frame` column (ascending)."""
    config = graph_defaults(axis_label, **custom)
    config["overrides"] = overrides or []
    return panel(
        "trend",
        title,
        description,
        sql,
        fieldConfig=config,
        options={
            "xField": "frame",
            "legend": {
                "showLegend": legend,
                "displayMode": "list",
                "placement": "bottom",
                "calcs": [],
            },
            "tooltip": {"mode": "multi", "sort": "none"},
        },
        transformations=transformations or [],
    )


def pivot(series: str, value: str, row: str = "frame") -> list[Json]:
    """Transformations turning long rows (row, series, value) into one frame: a numeric `row`
    field followed by one field per series value ("Grouping to matrix" makes the row key a
    string field named "<row>\\<series>"; it is converted back to a number and renamed)."""
    key = f"{row}\\{series}"
    return [
        {
            "id": "groupingToMatrix",
            "options": {
                "rowField": row,
                "columnField": series,
                "valueField": value,
                "emptyValue": "null",
            },
        },
        {
            "id": "convertFieldType",
            "options": {
                "conversions": [{"targetField": key, "destinationType": "number"}],
                "fields": {},
            },
        },
        {
            "id": "organize",
            "options": {
                "renameByName": {key: row},
                "excludeByName": {},
                "indexByName": {},
                "includeByName": {},
            },
        },
    ]


def table(title: str, description: str, sql: str, **extra: Any) -> Json:
    """A table panel."""
    return panel(
        "table",
        title,
        description,
        sql,
        fieldConfig=extra.pop(
            "fieldConfig",
            {
                "defaults": {
                    "decimals": 3,
                    "custom": {"align": "auto", "cellOptions": {"type": "auto"}},
                },
                "overrides": [],
            },
        ),
        options={
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "fields": ""},
        },
        **extra,
    )


def barchart(title: str, description: str, sql: str, x_field: str, axis_label: str) -> Json:
    """Grouped bars, one group per value of `x_field`."""
    return panel(
        "barchart",
        title,
        description,
        sql,
        fieldConfig={
            "defaults": {
                "unit": "none",
                "decimals": 3,
                "color": {"mode": "palette-classic"},
                "custom": {
                    "axisLabel": axis_label,
                    "axisPlacement": "auto",
                    "fillOpacity": 80,
                    "lineWidth": 1,
                    "gradientMode": "none",
                },
            },
            "overrides": [],
        },
        options={
            "xField": x_field,
            "orientation": "auto",
            "showValue": "auto",
            "stacking": "none",
            "groupWidth": 0.7,
            "barWidth": 0.9,
            "xTickLabelRotation": 0,
            "xTickLabelSpacing": 0,
            "legend": {
                "showLegend": True,
                "displayMode": "list",
                "placement": "bottom",
                "calcs": [],
            },
            "tooltip": {"mode": "multi", "sort": "none"},
        },
    )


def xychart(
    title: str,
    description: str,
    sql: str,
    *,
    x: str,
    y: str,
    color: str | None = None,
    show: str = "points",
    transformations: list[Json] | None = None,
    legend: bool = False,
    field_color: Json | None = None,
    axis_label: str = "",
    **extra: Any,
) -> Json:
    """An XY chart (v2 options: one series mapping for every frame)."""
    series: Json = {
        "x": {"matcher": {"id": "byName", "options": x}},
        "y": {"matcher": {"id": "byName", "options": y}},
    }
    if color:
        series["color"] = {"matcher": {"id": "byName", "options": color}}
    return panel(
        "xychart",
        title,
        description,
        sql,
        fieldConfig={
            "defaults": {
                "unit": "none",
                "color": field_color or {"mode": "continuous-GrYlRd"},
                "custom": {
                    "show": show,
                    "pointSize": {"fixed": 6},
                    "pointShape": "circle",
                    "pointStrokeWidth": 1,
                    "fillOpacity": 60,
                    "lineWidth": 1,
                    "lineStyle": {"fill": "solid"},
                    "axisLabel": axis_label,
                    "axisPlacement": "auto",
                    "hideFrom": {"legend": False, "tooltip": False, "viz": False},
                },
            },
            "overrides": [],
        },
        options={
            "mapping": "auto",
            "series": [series],
            "legend": {
                "showLegend": legend,
                "displayMode": "list",
                "placement": "bottom",
                "calcs": [],
            },
            "tooltip": {"mode": "single", "sort": "none"},
        },
        transformations=transformations or [],
        **extra,
    )


def text(title: str, content: str, **extra: Any) -> Json:
    """A markdown text panel (no query)."""
    return panel(
        "text",
        title,
        "",
        None,
        options={"mode": "markdown", "content": content, "code": {"language": "sql"}},
        **extra,
    )


def row(title: str) -> Json:
    """A full-width row header."""
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "w": 24, "h": 1}


# --- dashboard 1: time-series overview --------------------------------------------------------

FRAME_AXIS_NOTE = """The **x axis is frames** (the episode's time steps), not clock time: the
time picker is hidden and does nothing here. Choose the frames with **From frame** / **To
frame** (empty = the whole episode); seconds are frames / frame rate. Panels marked
*agent types* follow the **Agent type** choice; per-frame statistics are over all agents.
Panels of data an episode does not have (z for 2D, targets for tracking, boxes for
non-bbox files) show *No data*."""

OVERVIEW_PANELS = [
    text("How to read these dashboards", FRAME_AXIS_NOTE, w=8, h=6),
    panel(
        "stat",
        "Episode",
        "episodes and episode_summary: size, frame rate, duration and speed of the episode.",
        """select
    e.num_frames as "frames",
    e.num_agents as "agents",
    e.frame_rate as "frames per second",
    s.duration_seconds as "duration",
    s.mean_speed as "mean speed",
    s.num_agents_reached as "agents that reached a target"
from marts.episodes as e
left join marts.episode_summary as s on s.episode_id = e.episode_id
where e.episode_id = $episode""",
        w=16,
        h=6,
        fieldConfig={
            "defaults": {"decimals": 2, "color": {"mode": "fixed", "fixedColor": "blue"}},
            "overrides": [by_name("duration", unit="s")],
        },
        options={
            "reduceOptions": {"values": False, "calcs": ["lastNotNull"], "fields": ""},
            "orientation": "auto",
            "textMode": "value_and_name",
            "colorMode": "none",
            "graphMode": "none",
            "justifyMode": "auto",
            "wideLayout": True,
            "showPercentChange": False,
        },
    ),
    trend(
        "Agents observed",
        "frame_stats: non-environment agents observed in each frame, and how many have a "
        "velocity (2D: not on an agent's last frame; tracking: not on a track's first frame "
        "or after a gap).",
        f"""select
    time_index as frame,
    num_agents as "agents",
    num_agents_with_speed as "with a velocity"
from marts.frame_stats
where episode_id = $episode and {RANGE}
order by time_index""",
        "agents",
    ),
    trend(
        "Speed: mean, min, max",
        "frame_stats: speed of the agents in each frame, position units per frame (3D: scene "
        "units; 2D and tracking: pixels, world units for centroids_3d files).",
        f"""select
    time_index as frame,
    mean_speed as "mean",
    min_speed as "min",
    max_speed as "max"
from marts.frame_stats
where episode_id = $episode and {RANGE}
order by time_index""",
        "position units / frame",
        overrides=[by_name("mean", custom__lineWidth=2)],
    ),
    trend(
        "Individual speeds",
        "observation_properties_wide: the speed of every agent of the chosen agent types, "
        "one line per agent.",
        f"""select
    w.time_index as frame,
    w.agent_type_id || ' ' || cast(w.agent_id as text) as agent,
    w.speed
from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
where w.episode_id = $episode and w.{RANGE}
    and {AGENTS_OF_TYPES}
    and w.speed is not null
order by frame, w.agent_type_id, w.agent_id""",
        "position units / frame",
        transformations=pivot("agent", "speed"),
        legend=False,
    ),
    trend(
        "Distance to target: mean, min, max",
        "Distance of each agent to its nearest target (3D: target meshes; 2D food datasets: "
        "the food), mean and min from frame_stats, max from the stored target distances. "
        "No data for sources without targets (tracking, 2D datasets without food) and before "
        "a 3D target appears.",
        f"""with {TARGET_DISTANCES_IN_RANGE},

per_frame as (
    select td.time_index, max(td.distance_to_target) as max_distance
    from target_distances as td
    inner join marts.agent_types as t on t.agent_type_id = td.agent_type_id
    where not t.is_environment
    group by td.time_index
)

select
    f.time_index as frame,
    f.mean_distance_to_target as "mean",
    f.min_distance_to_target as "min",
    per_frame.max_distance as "max"
from marts.frame_stats as f
left join per_frame on per_frame.time_index = f.time_index
where f.episode_id = $episode and f.{RANGE} and f.num_agents_with_target_distance > 0
order by f.time_index""",
        "position units",
        overrides=[by_name("mean", custom__lineWidth=2)],
    ),
    trend(
        "Centroid of the agents",
        "frame_stats: mean position of the agents per axis (3D: y is the height). 2D and 2D "
        "tracking episodes have no z line.",
        f"""select f.time_index as frame, c.axis, c.value
from marts.frame_stats as f
cross join lateral (
    values ('x', f.centroid_x), ('y', f.centroid_y), ('z', f.centroid_z)
) as c (axis, value)
where f.episode_id = $episode and f.{RANGE} and c.value is not null
order by frame, c.axis""",
        "position units",
        transformations=pivot("axis", "value"),
    ),
    trend(
        "Flocking: polarisation and nearest neighbour",
        "pairwise_frame_stats (frames with two or more agents): polarisation of the headings "
        "(0 = random, 1 = aligned; left axis) and the mean distance to the nearest neighbour "
        "(position units; right axis).",
        f"""select
    time_index as frame,
    polarisation as "polarisation",
    mean_nearest_neighbour_distance as "nearest neighbour distance"
from marts.pairwise_frame_stats
where episode_id = $episode and {RANGE}
order by time_index""",
        "polarisation",
        overrides=[
            by_name(
                "nearest neighbour distance",
                custom__axisPlacement="right",
                custom__axisLabel="position units",
            )
        ],
    ),
    row("Tracking detections (bounding-box files only)"),
    trend(
        "Detection confidence",
        "observation_properties_wide: mean and lowest detector confidence of the agents of the "
        "chosen agent types per frame. Only tracking bboxes files have a confidence.",
        f"""select
    w.time_index as frame,
    avg(w.confidence) as "mean",
    min(w.confidence) as "min"
from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
where w.episode_id = $episode and w.{RANGE}
    and {AGENTS_OF_TYPES}
    and w.confidence is not null
group by w.time_index
order by frame""",
        "confidence (0..1)",
    ),
    trend(
        "Bounding box size",
        "observation_properties_wide: mean width and height of the boxes of the agents of the "
        "chosen agent types per frame, pixels. Only tracking bboxes files have boxes.",
        f"""select
    w.time_index as frame,
    avg(w.bbox_x2 - w.bbox_x1) as "width",
    avg(w.bbox_y2 - w.bbox_y1) as "height"
from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
where w.episode_id = $episode and w.{RANGE}
    and {AGENTS_OF_TYPES}
    and w.bbox_x1 is not null
group by w.time_index
order by frame""",
        "pixels",
    ),
]

# --- dashboard 2: spatial ---------------------------------------------------------------------

SPATIAL_PANELS = [
    panel(
        "heatmap",
        "Occupancy (top-down, whole episode)",
        "spatial_occupancy: share of the episode's agent-frames in each bin (bin size: var "
        "occupancy_bin_size), seen from above: x across, z up for 3D boids (y is the height, "
        "summed over), y up otherwise. Covers the whole episode, all agents.",
        """with episode as (
    select category_id from marts.episodes where episode_id = $episode
),

cells as (
    select
        o.bin_size,
        o.bin_x as column_index,
        case when episode.category_id = 'boids_3d' then o.bin_z else o.bin_y end as row_index,
        sum(o.occupancy_fraction) as fraction
    from marts.spatial_occupancy as o
    cross join episode
    where o.episode_id = $episode
    group by o.bin_size, o.bin_x, row_index
),

bounds as (
    select
        max(bin_size) as bin_size,
        min(column_index) as first_column,
        max(column_index) as last_column,
        min(row_index) as first_row,
        max(row_index) as last_row
    from cells
)

-- every cell of the bounding grid, in (x, y) order: the heatmap needs a dense grid
select
    grid_x.i * bounds.bin_size as x,
    grid_y.j * bounds.bin_size as y,
    coalesce(cells.fraction, 0) as occupancy
from bounds
cross join generate_series(bounds.first_column, bounds.last_column) as grid_x (i)
cross join generate_series(bounds.first_row, bounds.last_row) as grid_y (j)
left join cells on cells.column_index = grid_x.i and cells.row_index = grid_y.j
order by x, y""",
        w=12,
        h=12,
        fieldConfig={"defaults": {"unit": "percentunit"}, "overrides": []},
        options={
            "calculate": False,
            "cellGap": 0,
            "color": {
                "mode": "scheme",
                "scheme": "Oranges",
                "fill": "dark-orange",
                "scale": "exponential",
                "exponent": 0.5,
                "steps": 64,
                "reverse": False,
            },
            "filterValues": {"le": 1e-9},
            "rowsFrame": {"layout": "auto"},
            "yAxis": {"axisPlacement": "left", "axisLabel": "y (3D: z), lower bin edge"},
            "cellValues": {"unit": "percentunit", "decimals": 2},
            "showValue": "never",
            "legend": {"show": True},
            "tooltip": {"mode": "single", "yHistogram": False, "showColorScale": False},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
        },
        transformations=pivot("y", "occupancy", row="x"),
    ),
    xychart(
        "Velocity field",
        "observations: mean velocity of the agents of the chosen agent types in each cell "
        "(twice the occupancy bin size) over the frame range, seen from above (3D: x and z; "
        "otherwise x and y). Arrows start at the cell centre; the longest is 0.9 cells, the "
        "others are scaled alike.",
        f"""with episode as (
    select category_id from marts.episodes where episode_id = $episode
),

grid as (
    select 2 * max(bin_size) as cell from marts.spatial_occupancy where episode_id = $episode
),

moving as (
    select
        w.x as px,
        {plane("w.")} as py,
        w.v_x as vu,
        {plane("w.v_")} as vw
    from marts.observations as w
    inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
    cross join episode
    where w.episode_id = $episode and w.{RANGE}
        and {AGENTS_OF_TYPES}
        and w.v_x is not null
),

cells as (
    select
        floor(moving.px / grid.cell) as i,
        floor(moving.py / grid.cell) as j,
        grid.cell,
        avg(moving.vu) as u,
        avg(moving.vw) as v
    from moving
    cross join grid
    where moving.vw is not null
    group by 1, 2, 3
),

arrows as (
    select
        i,
        j,
        (i + 0.5) * cell as x0,
        (j + 0.5) * cell as y0,
        u * 0.9 * cell / nullif(max(sqrt(u * u + v * v)) over (), 0) as du,
        v * 0.9 * cell / nullif(max(sqrt(u * u + v * v)) over (), 0) as dv
    from cells
)

-- each arrow is a polyline: tail, head, barb, head, barb (barbs: 0.3 of the shaft, +-25 deg)
select cast(i as text) || ',' || cast(j as text) as arrow, p.px, p.py
from arrows
cross join lateral (
    values
        (1, x0, y0),
        (2, x0 + du, y0 + dv),
        (3, x0 + du - 0.3 * (du * cos(radians(25)) - dv * sin(radians(25))),
            y0 + dv - 0.3 * (du * sin(radians(25)) + dv * cos(radians(25)))),
        (4, x0 + du, y0 + dv),
        (5, x0 + du - 0.3 * (du * cos(radians(25)) + dv * sin(radians(25))),
            y0 + dv - 0.3 * (dv * cos(radians(25)) - du * sin(radians(25))))
) as p (k, px, py)
where du is not null and (du <> 0 or dv <> 0)
order by arrow, p.k""",
        x="px",
        y="py",
        show="lines",
        transformations=[
            {
                "id": "partitionByValues",
                "options": {"fields": ["arrow"], "keepFields": False},
            }
        ],
        field_color={"mode": "fixed", "fixedColor": "blue"},
        axis_label="y (3D: z)",
        h=12,
    ),
    xychart(
        "Agent positions at the chosen frame",
        "observation_properties_wide: where the agents of the chosen agent types are at the "
        "chosen frame (At frame; empty: the middle of the frame range), seen from above, "
        "coloured by speed.",
        f"""select
    w.x as px,
    {plane("w.")} as py,
    w.speed
from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
cross join (select category_id from marts.episodes where episode_id = $episode) as episode
where w.episode_id = $episode and w.time_index = $at_frame
    and {AGENTS_OF_TYPES}
order by px""",
        x="px",
        y="py",
        color="speed",
        axis_label="y (3D: z)",
    ),
    panel(
        "histogram",
        "Speed distribution",
        "observation_properties_wide: speeds of the agents of the chosen agent types over the "
        "frame range, position units per frame.",
        f"""select w.speed
from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
where w.episode_id = $episode and w.{RANGE}
    and {AGENTS_OF_TYPES}
    and w.speed is not null""",
        fieldConfig={
            "defaults": {
                "unit": "none",
                "color": {"mode": "palette-classic"},
                "custom": {"fillOpacity": 80, "lineWidth": 1, "gradientMode": "none"},
            },
            "overrides": [],
        },
        options={
            "bucketCount": 30,
            "combine": False,
            "legend": {
                "showLegend": False,
                "displayMode": "list",
                "placement": "bottom",
                "calcs": [],
            },
            "tooltip": {"mode": "single", "sort": "none"},
        },
    ),
    table(
        "Agent state at the chosen frame",
        "observation_properties_wide: position, velocity and properties of the agents of the "
        "chosen agent types at the chosen frame (At frame). Columns follow the episode: z and "
        "v_z only for 3D data, the distance to the nearest target only where there are "
        "targets, boxes and confidence only for tracking bboxes files.",
        f"""with {TARGET_DISTANCES_AT_FRAME}

select
    w.agent_type_id as "type",
    w.agent_id as "agent",
    ${{state_columns:raw}}
from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
left join target_distances as td on td.observation_id = w.observation_id
where w.episode_id = $episode and w.time_index = $at_frame
    and {AGENTS_OF_TYPES}
order by w.agent_type_id, w.agent_id""",
        w=24,
        h=10,
    ),
]

# --- dashboard 3: windowed statistics ---------------------------------------------------------


def window_trend(metric: str, title: str, unit_label: str) -> Json:
    """Per-window distribution of one window_stats metric, p05..p95 shaded; each window is a
    flat segment from its first to its last frame."""
    return trend(
        title,
        f"window_stats, metric {metric}: distribution over all agent values of each window of "
        "var stats_window_frames frames (default 100), drawn flat over the window's frames: "
        "mean, median, the p25..p75 and p05..p95 bands, min and max. Windows overlapping the "
        "frame range.",
        f"""select
    ends.frame,
    s.mean_value as "mean",
    s.median_value as "median",
    s.p05_value as "p05",
    s.p25_value as "p25",
    s.p75_value as "p75",
    s.p95_value as "p95",
    s.min_value as "min",
    s.max_value as "max"
from marts.window_stats as s
inner join marts.episodes as e on e.episode_id = s.episode_id
cross join lateral (
    -- union: a one-frame window gives one point (the Trend panel needs a strictly rising x)
    select s.window_start_frame as frame
    union
    select least(s.window_end_frame, e.last_frame)
) as ends
where s.episode_id = $episode and s.metric = '{metric}'
    and s.window_end_frame >= $range_start and s.window_start_frame <= $range_end
order by s.window_index, ends.frame""",
        unit_label,
        overrides=[
            by_name("mean", custom__lineWidth=2),
            by_name("median", custom__lineWidth=2),
            by_name("p95", custom__fillBelowTo="p05", custom__fillOpacity=10),
            by_name("p75", custom__fillBelowTo="p25", custom__fillOpacity=20),
            by_name("min", custom__lineStyle={"fill": "dash", "dash": [4, 4]}),
            by_name("max", custom__lineStyle={"fill": "dash", "dash": [4, 4]}),
        ],
    )


BEFORE_AFTER = f"""with {TARGET_DISTANCES_IN_RANGE},

agent_frames as (
    select
        case when w.time_index < $at_frame then 'before' else 'from' end as period,
        w.time_index,
        w.speed,
        td.distance_to_target
    from marts.observation_properties_wide as w
    inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
    left join target_distances as td on td.observation_id = w.observation_id
    where w.episode_id = $episode and w.{RANGE} and not t.is_environment
)

select
    case period when 'before' then 'before frame ' else 'from frame ' end
        || cast($at_frame as text) as "period",
    min(time_index) as "first frame",
    max(time_index) as "last frame",
    count(*) as "agent-frames",
    avg(speed) as "mean speed",
    percentile_cont(0.5) within group (order by speed) as "median speed",
    percentile_cont(0.95) within group (order by speed) as "p95 speed",
    max(speed) as "max speed",
    avg(distance_to_target) as "mean distance to target",
    min(distance_to_target) as "min distance to target"
from agent_frames
group by period
order by min(time_index)"""

WINDOW_PANELS = [
    window_trend("speed", "Speed per window", "position units / frame"),
    window_trend("distance_to_target", "Distance to target per window", "position units"),
    window_trend("acceleration_magnitude", "Acceleration per window", "position units / frame²"),
    table(
        "Window statistics",
        "window_stats: every metric of every window overlapping the frame range.",
        """select
    metric as "metric",
    window_start_frame as "first frame",
    window_end_frame as "last frame",
    num_values as "values",
    mean_value as "mean",
    stddev_value as "stddev",
    p05_value as "p05",
    median_value as "median",
    p95_value as "p95",
    min_value as "min",
    max_value as "max"
from marts.window_stats
where episode_id = $episode
    and window_end_frame >= $range_start and window_start_frame <= $range_end
order by metric, window_index""",
    ),
    table(
        "Before / from the chosen frame",
        "observation_properties_wide and the stored target distances: every agent's speed "
        "and distance to its nearest target in the frame range, before the chosen frame (At "
        "frame; empty: the middle of the range) and from it on.",
        BEFORE_AFTER,
        w=24,
        h=5,
    ),
    barchart(
        "Speed before / from the chosen frame",
        "The speed columns of the table above.",
        BEFORE_AFTER,
        "period",
        "position units / frame",
    )
    | {
        "transformations": [
            {
                "id": "organize",
                "options": {
                    "excludeByName": {
                        "first frame": True,
                        "last frame": True,
                        "agent-frames": True,
                        "mean distance to target": True,
                        "min distance to target": True,
                    },
                    "renameByName": {},
                    "indexByName": {},
                    "includeByName": {},
                },
            }
        ]
    },
    barchart(
        "Distance to target before / from the chosen frame",
        "The distance columns of the table above (no data without targets).",
        BEFORE_AFTER,
        "period",
        "position units",
    )
    | {
        "transformations": [
            {
                "id": "organize",
                "options": {
                    "excludeByName": {
                        "first frame": True,
                        "last frame": True,
                        "agent-frames": True,
                        "mean speed": True,
                        "median speed": True,
                        "p95 speed": True,
                        "max speed": True,
                    },
                    "renameByName": {},
                    "indexByName": {},
                    "includeByName": {},
                },
            }
        ]
    },
]

# --- dashboard 4: episode comparison ----------------------------------------------------------

OF_EPISODES = "e.session_id = $session and e.episode_id in ($episodes)"


def episode_metric_trend(title: str, description: str, mart: str, column: str, unit: str) -> Json:
    """A per-frame metric of an analytics mart, one line per selected episode."""
    return trend(
        title,
        description,
        f"""select m.time_index as frame, e.episode_name as episode, m.{column}
from marts.{mart} as m
inner join marts.episodes as e on e.episode_id = m.episode_id
where {OF_EPISODES} and m.{RANGE} and m.{column} is not null
order by frame, e.episode_number""",
        unit,
        transformations=pivot("episode", column),
    )


COMPARISON_PANELS = [
    table(
        "Episodes",
        "episode_summary: one row per chosen episode of the session. Reach: an agent reaches "
        "the target when its distance to the nearest target is at most var "
        "target_reach_distance; times from the episode's first frame.",
        f"""select
    e.episode_number as "number",
    e.episode_name as "episode",
    s.num_frames as "frames",
    s.num_agents as "agents",
    s.duration_seconds as "duration",
    s.mean_speed as "mean speed",
    s.max_speed as "max speed",
    s.mean_path_length as "mean path length",
    s.num_agents_reached as "agents reached",
    s.time_to_first_reach_frames as "first reach (frames)",
    s.time_to_all_reached_frames as "all reached (frames)"
from marts.episode_summary as s
inner join marts.episodes as e on e.episode_id = s.episode_id
where {OF_EPISODES}
order by e.episode_number""",
        w=24,
        h=8,
    ),
    barchart(
        "Speed per episode",
        "episode_summary: mean and highest agent speed, position units per frame.",
        f"""select e.episode_name as "episode", s.mean_speed as "mean speed", s.max_speed as "max speed"
from marts.episode_summary as s
inner join marts.episodes as e on e.episode_id = s.episode_id
where {OF_EPISODES}
order by e.episode_number""",
        "episode",
        "position units / frame",
    ),
    barchart(
        "Path length per episode",
        "episode_summary: mean path length of an agent, position units (gaps not bridged).",
        f"""select e.episode_name as "episode", s.mean_path_length as "mean path length"
from marts.episode_summary as s
inner join marts.episodes as e on e.episode_id = s.episode_id
where {OF_EPISODES}
order by e.episode_number""",
        "episode",
        "position units",
    ),
    episode_metric_trend(
        "Mean speed over frames",
        "frame_stats: mean agent speed per frame, one line per episode.",
        "frame_stats",
        "mean_speed",
        "position units / frame",
    ),
    episode_metric_trend(
        "Mean distance to target over frames",
        "frame_stats: mean distance of the agents to their nearest target per frame, one line "
        "per episode (no data without targets).",
        "frame_stats",
        "mean_distance_to_target",
        "position units",
    ),
    episode_metric_trend(
        "Polarisation over frames",
        "pairwise_frame_stats: alignment of the agents' headings per frame (0..1), one line "
        "per episode.",
        "pairwise_frame_stats",
        "polarisation",
        "polarisation",
    ),
    trend(
        "Median speed per window",
        "window_stats: median agent speed of each window, drawn flat over the window's frames, "
        "one line per episode.",
        f"""select ends.frame, e.episode_name as episode, w.median_value
from marts.window_stats as w
inner join marts.episodes as e on e.episode_id = w.episode_id
cross join lateral (
    -- union: a one-frame window gives one point (the Trend panel needs a strictly rising x)
    select w.window_start_frame as frame
    union
    select least(w.window_end_frame, e.last_frame)
) as ends
where {OF_EPISODES} and w.metric = 'speed'
    and w.window_end_frame >= $range_start and w.window_start_frame <= $range_end
order by ends.frame, e.episode_number""",
        "position units / frame",
        transformations=pivot("episode", "median_value"),
    ),
    barchart(
        "Velocity alignment per episode",
        "agent_pair_velocity_correlation: mean over the agent pairs of the heading alignment "
        "(mean cosine between the two velocities) and of the correlation of each velocity "
        "component (NULL components, e.g. z of 2D data, are left out).",
        f"""select
    e.episode_name as "episode",
    avg(c.heading_alignment) as "heading alignment",
    avg(c.velocity_correlation_x) as "correlation x",
    avg(c.velocity_correlation_y) as "correlation y",
    avg(c.velocity_correlation_z) as "correlation z"
from marts.agent_pair_velocity_correlation as c
inner join marts.episodes as e on e.episode_id = c.episode_id
where {OF_EPISODES}
group by e.episode_number, e.episode_name
order by e.episode_number""",
        "episode",
        "-1..1",
    ),
]

# --- assembly ---------------------------------------------------------------------------------

DASHBOARDS: list[tuple[str, str, str, list[Json], list[Json]]] = [
    (
        "overview.json",
        "tw-overview",
        "Trajectories: time-series overview",
        [SESSION, EPISODE, AGENT_TYPE, FRAME_FROM, FRAME_TO, RANGE_START, RANGE_END],
        OVERVIEW_PANELS,
    ),
    (
        "spatial.json",
        "tw-spatial",
        "Trajectories: spatial",
        [
            SESSION,
            EPISODE,
            AGENT_TYPE,
            FRAME_FROM,
            FRAME_TO,
            FRAME,
            RANGE_START,
            RANGE_END,
            AT_FRAME,
            STATE_COLUMNS,
        ],
        SPATIAL_PANELS,
    ),
    (
        "windows.json",
        "tw-windows",
        "Trajectories: windowed statistics",
        [SESSION, EPISODE, FRAME_FROM, FRAME_TO, FRAME, RANGE_START, RANGE_END, AT_FRAME],
        WINDOW_PANELS,
    ),
    (
        "episodes.json",
        "tw-episodes",
        "Trajectories: episode comparison",
        [SESSION, EPISODES, FRAME_FROM, FRAME_TO, ANY_RANGE_START, ANY_RANGE_END],
        COMPARISON_PANELS,
    ),
]


def layout(panels: list[Json]) -> list[Json]:
    """Give each panel an id and a gridPos, filling rows of 24 columns left to right."""
    placed = []
    x = y = row_height = 0
    for index, source in enumerate(panels, start=1):
        item = dict(source)
        w, h = item.pop("w"), item.pop("h")
        if x + w > 24 or item["type"] == "row":
            x, y, row_height = 0, y + row_height, 0
        item = {"id": index, "gridPos": {"h": h, "w": w, "x": x, "y": y}, **item}
        placed.append(item)
        x += w
        row_height = max(row_height, h)
        if item["type"] == "row":
            x, y, row_height = 0, y + h, 0
    return placed


def dashboard(uid: str, title: str, variables: list[Json], panels: list[Json]) -> Json:
    """The dashboard JSON model, as provisioned (no id)."""
    return {
        "uid": uid,
        "title": title,
        "description": "Trajectory warehouse marts (grafana/README.md). The x axis is frames.",
        "tags": [TAG],
        "editable": True,
        "graphTooltip": 1,
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "",
        "liveNow": False,
        # Not used by any query: frames are not time. Hidden, so it cannot mislead.
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {"hidden": True},
        "annotations": {"list": []},
        "links": [
            {
                "title": "Trajectory dashboards",
                "type": "dashboards",
                "tags": [TAG],
                "asDropdown": False,
                "includeVars": True,
                "keepTime": False,
                "targetBlank": False,
                "icon": "external link",
            }
        ],
        "templating": {"list": variables},
        "panels": layout(panels),
    }


def generate() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        name: json.dumps(dashboard(uid, title, variables, panels), indent=2, ensure_ascii=False)
        + "\n"
        for name, uid, title, variables, panels in DASHBOARDS
    }


def main() -> int:
    """Write the dashboards; with --check, only report whether the files are up to date."""
    check = "--check" in sys.argv[1:]
    stale = []
    for name, content in generate().items():
        path = DASHBOARD_DIR / name
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        stale.append(name)
        if not check:
            DASHBOARD_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run python grafana/generate_dashboards.py")
        return 1
    print("written: " + ", ".join(stale) if stale else "up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
