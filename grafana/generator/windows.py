"""Dashboard "windowed statistics": window_stats of one episode, and the agents' speed and
target distance before / from a chosen frame (the wide model)."""

from __future__ import annotations

from grafana.generator import variables as var
from grafana.generator.builders import Json, barchart, by_name, organize, table, trend
from grafana.generator.sql import RANGE, window_ends, windows_in_range

VARIABLES = var.episode_variables(agent_types=False, chosen_frame=True)

DASHED = {"fill": "dash", "dash": [4, 4]}


def window_trend(metric: str, title: str, unit_label: str) -> Json:
    """Per-window distribution of one window_stats metric, p05..p95 shaded; each window is a
    flat segment from its first to its last frame."""
    return trend(
        title,
        f"window_stats, metric {metric}: distribution over all agent values of each window of "
        "var stats_window_frames frames, drawn flat over the window's frames: "
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
{window_ends("s")}
where s.episode_id = $episode and s.metric = '{metric}'
    and {windows_in_range("s.")}
order by s.window_index, ends.frame""",
        unit_label,
        overrides=[
            by_name("mean", custom__lineWidth=2),
            by_name("median", custom__lineWidth=2),
            by_name("p95", custom__fillBelowTo="p05", custom__fillOpacity=10),
            by_name("p75", custom__fillBelowTo="p25", custom__fillOpacity=20),
            by_name("min", custom__lineStyle=DASHED),
            by_name("max", custom__lineStyle=DASHED),
        ],
    )


BEFORE_AFTER = f"""with agent_frames as (
    select
        case when w.time_index < $at_frame then 'before' else 'from' end as period,
        w.time_index,
        w.speed,
        w.distance_to_target
    from marts.observation_properties_wide as w
    inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
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

FRAMES_COUNTS = ["first frame", "last frame", "agent-frames"]
SPEEDS = ["mean speed", "median speed", "p95 speed", "max speed"]
DISTANCES = ["mean distance to target", "min distance to target"]


def before_after_bars(title: str, description: str, shown: list[str], unit_label: str) -> Json:
    """Bars of some columns of the before / from table."""
    hidden = [name for name in FRAMES_COUNTS + SPEEDS + DISTANCES if name not in shown]
    return barchart(
        title,
        description,
        BEFORE_AFTER,
        "period",
        unit_label,
        transformations=[organize(exclude=hidden)],
    )


PANELS: list[Json] = [
    window_trend("speed", "Speed per window", "position units / frame"),
    window_trend("distance_to_target", "Distance to target per window", "position units"),
    window_trend("acceleration_magnitude", "Acceleration per window", "position units / frame²"),
    table(
        "Window statistics",
        "window_stats: every metric of every window overlapping the frame range.",
        f"""select
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
    and {windows_in_range()}
order by metric, window_index""",
    ),
    table(
        "Before / from the chosen frame",
        "observation_properties_wide: every agent's speed and distance to its nearest target "
        "in the frame range, before the chosen frame (At frame; empty: the middle of the "
        "range) and from it on.",
        BEFORE_AFTER,
        w=24,
        h=5,
    ),
    before_after_bars(
        "Speed before / from the chosen frame",
        "The speed columns of the table above.",
        SPEEDS,
        "position units / frame",
    ),
    before_after_bars(
        "Distance to target before / from the chosen frame",
        "The distance columns of the table above (no data without targets).",
        DISTANCES,
        "position units",
    ),
]
