"""Dashboard "time-series overview": one episode over frames (frame_stats,
pairwise_frame_stats, the wide model for individual agents and tracking detections)."""

from __future__ import annotations

from grafana.generator import variables as var
from grafana.generator.builders import Json, by_name, panel, pivot, row, text, trend
from grafana.generator.sql import (
    RANGE,
    agents_per_frame,
    chosen_agents,
    per_frame,
)

VARIABLES = var.episode_variables(agent_types=True, chosen_frame=False)

FRAME_AXIS_NOTE = """The **x axis is frames** (the episode's time steps), not clock time: the
time picker is hidden and does nothing here. Choose the frames with **From frame** / **To
frame** (empty = the whole episode); seconds are frames / frame rate. Panels marked
*agent types* follow the **Agent type** choice; per-frame statistics are over all agents.
Panels of data an episode does not have (z for 2D, targets for tracking, boxes for
non-bbox files) show *No data*."""

EPISODE_STAT = panel(
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
)

TARGET_DISTANCE = f"""select
    f.time_index as frame,
    f.mean_distance_to_target as "mean",
    f.min_distance_to_target as "min",
    f.max_distance_to_target as "max"
from marts.frame_stats as f
where f.episode_id = $episode and f.{RANGE} and f.num_agents_with_target_distance > 0
order by f.time_index"""

PANELS: list[Json] = [
    text("How to read these dashboards", FRAME_AXIS_NOTE, w=8, h=6),
    EPISODE_STAT,
    trend(
        "Agents observed",
        "frame_stats: non-environment agents observed in each frame, and how many have a "
        "velocity (2D: not on an agent's last frame; tracking: not on a track's first frame "
        "or after a gap).",
        per_frame(
            "frame_stats", 'num_agents as "agents"', 'num_agents_with_speed as "with a velocity"'
        ),
        "agents",
    ),
    trend(
        "Speed: mean, min, max",
        "frame_stats: speed of the agents in each frame, position units per frame (3D: scene "
        "units; 2D and tracking: pixels, world units for centroids_3d files).",
        per_frame(
            "frame_stats", 'mean_speed as "mean"', 'min_speed as "min"', 'max_speed as "max"'
        ),
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
{chosen_agents()}
    and w.speed is not null
order by frame, w.agent_type_id, w.agent_id""",
        "position units / frame",
        transformations=pivot("agent", "speed"),
        legend_shown=False,
    ),
    trend(
        "Distance to target: mean, min, max",
        "Distance of each agent to its nearest target (3D: target meshes; 2D food datasets: "
        "the food), from frame_stats. "
        "No data for sources without targets (tracking, 2D datasets without food) and before "
        "a 3D target appears.",
        TARGET_DISTANCE,
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
        per_frame(
            "pairwise_frame_stats",
            'polarisation as "polarisation"',
            'mean_nearest_neighbour_distance as "nearest neighbour distance"',
        ),
        "polarisation",
        overrides=[
            by_name(
                "nearest neighbour distance",
                custom__axisPlacement="right",
                custom__axisLabel="position units",
            )
        ],
    ),
    row("Tracking detections (files with boxes only)"),
    trend(
        "Detection confidence",
        "observation_properties_wide: mean and lowest detector confidence of the agents of the "
        "chosen agent types per frame. Only tracking files with boxes (bboxes, 3D centroids) have a confidence.",
        agents_per_frame("confidence", 'avg(w.confidence) as "mean"', 'min(w.confidence) as "min"'),
        "confidence (0..1)",
    ),
    trend(
        "Bounding box size",
        "observation_properties_wide: mean width and height of the boxes of the agents of the "
        "chosen agent types per frame, pixels. Only tracking files with boxes (bboxes, 3D centroids) have boxes.",
        agents_per_frame(
            "bbox_x1",
            'avg(w.bbox_x2 - w.bbox_x1) as "width"',
            'avg(w.bbox_y2 - w.bbox_y1) as "height"',
        ),
        "pixels",
    ),
]
