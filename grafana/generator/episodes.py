"""Dashboard "episode comparison": the chosen episodes of one session side by side
(episode_summary, frame_stats, pairwise_frame_stats, window_stats,
agent_pair_velocity_correlation), and the cameras and derivation of a tracking session's
episodes (episodes)."""

from __future__ import annotations

from grafana.generator import variables as var
from grafana.generator.builders import Json, barchart, pivot, table, trend
from grafana.generator.sql import RANGE, columns, window_ends, windows_in_range

VARIABLES = [
    var.SESSION,
    var.EPISODES,
    var.FRAME_FROM,
    var.FRAME_TO,
    var.ANY_RANGE_START,
    var.ANY_RANGE_END,
]

OF_EPISODES = "e.session_id = $session and e.episode_id in ($episodes)"


def summary(select: str) -> str:
    """`select` (a SELECT clause) from episode_summary `s` and episodes `e` for the chosen
    episodes, in episode order."""
    return f"""{select}
from marts.episode_summary as s
inner join marts.episodes as e on e.episode_id = s.episode_id
where {OF_EPISODES}
order by e.episode_number"""


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


PANELS: list[Json] = [
    table(
        "Episodes",
        "episode_summary: one row per chosen episode of the session. Reach: an agent reaches "
        "the target when its distance to the nearest target is at most var "
        "target_reach_distance; times from the episode's first frame.",
        summary(
            "select\n    "
            + columns(
                'e.episode_number as "number"',
                'e.episode_name as "episode"',
                's.num_frames as "frames"',
                's.num_agents as "agents"',
                's.duration_seconds as "duration"',
                's.mean_speed as "mean speed"',
                's.max_speed as "max speed"',
                's.mean_path_length as "mean path length"',
                's.num_agents_reached as "agents reached"',
                's.time_to_first_reach_frames as "first reach (frames)"',
                's.time_to_all_reached_frames as "all reached (frames)"',
            )
        ),
        w=24,
        h=8,
    ),
    table(
        "Tracking episodes: cameras and derivation",
        "episodes of a tracking session (every one, whatever the chosen episodes): camera, "
        "modality, the episode each was derived from (rgb boxes from the thermal tracks, 3D "
        "centroids from the boxes) and its tracks (distinct track ids). The same animals are "
        "in an episode and the one it derives from: count a session's tracks over the episodes "
        "with no 'derived from'. No rows for other sources.",
        """select
    e.episode_number as "number",
    e.episode_name as "episode",
    e.metadata->>'camera' as "camera",
    e.metadata->>'modality' as "modality",
    d.episode_name as "derived from",
    e.num_agents as "tracks",
    e.num_observations as "observations",
    e.metadata->>'also_named' as "also named",
    e.metadata->>'rows_without_world_point' as "rows without world point"
from marts.episodes as e
left join marts.episodes as d on d.episode_id = e.derived_from_episode_id
where e.session_id = $session and e.category_id = 'tracking_csv'
order by e.episode_number""",
        w=24,
        h=7,
    ),
    barchart(
        "Speed per episode",
        "episode_summary: mean and highest agent speed, position units per frame.",
        summary(
            'select e.episode_name as "episode", s.mean_speed as "mean speed", s.max_speed as "max speed"'
        ),
        "episode",
        "position units / frame",
    ),
    barchart(
        "Path length per episode",
        "episode_summary: mean path length of an agent, position units (gaps not bridged).",
        summary('select e.episode_name as "episode", s.mean_path_length as "mean path length"'),
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
{window_ends("w")}
where {OF_EPISODES} and w.metric = 'speed'
    and {windows_in_range("w.")}
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
