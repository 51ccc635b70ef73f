"""SQL fragments shared by the dashboards' queries.

The frame range of every frame-indexed query is `time_index between $range_start and
$range_end` (the From / To frame boxes as numbers, grafana/README.md). Agent filters read
`agent_types.is_environment`, the marts' own notion of what is an agent.
"""

from __future__ import annotations

RANGE = "time_index between $range_start and $range_end"

# The non-environment agents of the chosen types, for queries over `w` (a table with
# agent_type_id); needs `inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id`.
AGENTS_OF_TYPES = "not t.is_environment and w.agent_type_id in ($agent_type)"

# `episode`: the chosen episode's category, for the top-down plane below.
EPISODE_TOP_DOWN_AXIS = """select c.top_down_axis
    from marts.episodes as e
    inner join marts.categories as c on c.category_id = e.category_id
    where e.episode_id = $episode"""

# Top-down plane of a position: x across, and up the axis the episode's category names
# (categories.top_down_axis: z for 3D boids, whose y is the height; y otherwise); needs `episode`.
PLANE_V = "case when episode.top_down_axis = 'z' then {z} else {y} end"


def plane(prefix: str = "") -> str:
    """The vertical coordinate of the top-down plane for columns with `prefix`."""
    return PLANE_V.format(z=f"{prefix}z", y=f"{prefix}y")


def window_ends(alias: str) -> str:
    """A lateral join `ends (frame)` giving the first and the last frame of each window_stats
    row `alias` (joined to marts.episodes as e), to draw the window flat over its frames."""
    return f"""cross join lateral (
    -- union: a one-frame window gives one point (the Trend panel needs a strictly rising x)
    select {alias}.window_start_frame as frame
    union
    select least({alias}.window_end_frame, e.last_frame)
) as ends"""


def windows_in_range(prefix: str = "") -> str:
    """The window_stats rows (columns with `prefix`) that overlap the frame range."""
    return f"{prefix}window_end_frame >= $range_start and {prefix}window_start_frame <= $range_end"


def columns(*expressions: str) -> str:
    """Select-list items, one a line."""
    return ",\n    ".join(expressions)


def per_frame(mart: str, *expressions: str) -> str:
    """The frames of the range of a per-frame mart (`time_index as frame`, then
    `expressions`) for the chosen episode."""
    return f"""select
    {columns("time_index as frame", *expressions)}
from marts.{mart}
where episode_id = $episode and {RANGE}
order by time_index"""


def chosen_agents(frames: str = f"w.{RANGE}") -> str:
    """FROM and WHERE of the wide rows `w` of the chosen agent types in the episode's `frames`
    (a condition on `w`)."""
    return f"""from marts.observation_properties_wide as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id
where w.episode_id = $episode and {frames}
    and {AGENTS_OF_TYPES}"""


def agents_per_frame(present: str, *expressions: str) -> str:
    """Per frame of the range, aggregates `expressions` over the chosen agents where the
    column `present` of the wide model is not NULL."""
    return f"""select
    {columns("w.time_index as frame", *expressions)}
{chosen_agents()}
    and w.{present} is not null
group by w.time_index
order by frame"""
