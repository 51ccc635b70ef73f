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


# The chosen episode, and the episodes of the chosen scope (the explore dashboard's hidden
# variable `scope_episodes`: the episode, or every episode of its session), for rows `w`.
THE_EPISODE = "w.episode_id = $episode"
SCOPE_EPISODES = "w.episode_id in ($scope_episodes)"


def chosen_agents(
    frames: str = f"w.{RANGE}",
    episodes: str = THE_EPISODE,
    mart: str = "observation_properties_wide",
    joins: str = "",
) -> str:
    """FROM and WHERE of the rows `w` of a per-observation mart (by default the wide model)
    for the chosen agent types in the `episodes`' `frames` (conditions on `w`), with `joins`
    (e.g. `cross join episode`) after the agent types'."""
    return f"""from marts.{mart} as w
inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id{joins}
where {episodes} and {frames}
    and {AGENTS_OF_TYPES}"""


def velocity_arrows(cell: str, moving: str, min_count: str = "1") -> str:
    """The velocity field seen from above: the mean velocity of the `moving` rows (FROM and
    WHERE over `w`, e.g. chosen_agents(mart="observations")) in square cells of side `cell`
    (an SQL expression), drawn as one polyline per cell for an XY chart: tail, head, barb,
    head, barb (barbs 0.3 of the shaft, at +-25 degrees), from the cell centre; the longest
    arrow is 0.9 cells, the others scaled alike; cells with fewer than `min_count` rows have
    none. Needs the `episode` CTE of EPISODE_TOP_DOWN_AXIS."""
    return f"""grid as (
    select {cell} as cell
),

moving as (
    select
        w.x as px,
        {plane("w.")} as py,
        w.v_x as vu,
        {plane("w.v_")} as vw
    {moving.replace(chr(10), chr(10) + "    ")}
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
    having count(*) >= {min_count}
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
order by arrow, p.k"""


def agents_per_frame(present: str, *expressions: str) -> str:
    """Per frame of the range, aggregates `expressions` over the chosen agents where the
    column `present` of the wide model is not NULL."""
    return f"""select
    {columns("w.time_index as frame", *expressions)}
{chosen_agents()}
    and w.{present} is not null
group by w.time_index
order by frame"""
