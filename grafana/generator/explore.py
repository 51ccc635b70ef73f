"""Dashboard "explore": the question chosen while looking. Bin size, property, window length,
quantiles and thresholds are dashboard variables, and the scope is one episode or its whole
session; every panel computes its answer from the marts when it runs (observations,
extended_properties, observation_properties_wide, read through their per-episode indexes)."""

from __future__ import annotations

import csv
from pathlib import Path

from grafana.generator import variables as var
from grafana.generator.builders import (
    Json,
    barchart,
    custom_variable,
    heatmap,
    pivot,
    query_variable,
    table,
    textbox_variable,
    trend,
    xychart,
)
from grafana.generator.sql import (
    EPISODE_TOP_DOWN_AXIS,
    SCOPE_EPISODES,
    chosen_agents,
    per_frame,
    plane,
    velocity_arrows,
)

# A grid has at most this many cells along an axis, whatever bin size is typed.
MAX_CELLS = 200
# The defaults of the boxes: the window length of the window_stats mart (dbt var
# stats_window_frames), the shared frames a pair needs, the frames a trail shows.
DEFAULT_WINDOW = 100
DEFAULT_MIN_SHARED = 10
DEFAULT_TRAIL = 50
QUANTILES = ["0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95"]
HISTOGRAM_BINS = 30

SCOPE = custom_variable(
    "scope",
    "Scope",
    ["episode", "session"],
    ["episode"],
    "episode: the chosen episode; session: every episode of its session, pooled (density, "
    "velocity, property windows and histogram). Pairwise panels and trails show the episode.",
)
SCOPE_EPISODE_IDS = query_variable(
    "scope_episodes",
    "Episodes in scope",
    """select cast(episode_id as text)
from marts.episodes
where case when ${scope:sqlstring} = 'session' then session_id = $session
    else episode_id = $episode end
order by episode_id""",
    multi=True,
    hide=2,
)
SCOPE_AGENT_TYPE = query_variable(
    "agent_type",
    "Agent type",
    "select distinct w.agent_type_id\n"
    "from marts.observations as w\n"
    "inner join marts.agent_types as t on t.agent_type_id = w.agent_type_id\n"
    f"where {SCOPE_EPISODES} and not t.is_environment\norder by 1",
    multi=True,
    description="The agent types every panel shows.",
)
PROPERTY = query_variable(
    "property",
    "Property",
    """select p.property_id
from marts.property_definitions as p
where p.data_type = 'float'
    and exists (
        select 1
        from marts.extended_properties as v
        where v.episode_id in ($scope_episodes) and v.property_key = p.property_key
    )
order by p.property_id <> 'speed', p.property_id""",
    description="A numeric property that the episodes in scope have (extended_properties).",
)
QUANTILE_CHOICE = custom_variable(
    "quantiles",
    "Quantiles",
    QUANTILES,
    ["0.1", "0.5", "0.9"],
    "The quantiles of the property drawn per window.",
)
BIN = textbox_variable(
    "bin",
    "Bin size",
    "Cell size of the density and velocity panels, position units (empty: the episode's "
    f"spatial_occupancy bin size). At most {MAX_CELLS} cells along an axis: a smaller bin is "
    "raised to that.",
)
MIN_COUNT = textbox_variable(
    "min_count", "Min count", "Cells with fewer observations are left blank (empty: 1)."
)
WINDOW = textbox_variable(
    "window", "Window (frames)", f"Length of the property windows (empty: {DEFAULT_WINDOW})."
)
MIN_SHARED = textbox_variable(
    "min_shared",
    "Min shared frames",
    f"Agent pairs seen together in fewer frames are not correlated (empty: {DEFAULT_MIN_SHARED}).",
)
TRAIL = textbox_variable(
    "trail", "Trail (frames)", f"Frames a trail shows, ending at At frame (empty: {DEFAULT_TRAIL})."
)
FRAME = textbox_variable(
    "frame", "At frame", "The last frame of the trails (empty: the last frame of the range)."
)

SCOPE_ROWS = "\nfrom marts.episodes\nwhere episode_id in ($scope_episodes)"
# The bin size typed (else the occupancy mart's), raised to MAX_CELLS cells along the widest
# axis of the episodes in scope (their occupancy bins span it).
BIN_SIZE = query_variable(
    "bin_size",
    "Cell size",
    f"""select greatest(
    coalesce({var.box_value("bin", "double precision")}, max(bin_size), 1),
    max(bin_size) * (1 + greatest(
        max(bin_x) - min(bin_x), max(bin_y) - min(bin_y), coalesce(max(bin_z) - min(bin_z), 0)
    )) / {MAX_CELLS},
    1e-9
)
from marts.spatial_occupancy
where episode_id in ($scope_episodes)""",
    hide=2,
)
NUMBERS = [
    var.box_number("range_start", "First frame", "frame_from", "min(first_frame)", SCOPE_ROWS),
    var.box_number("range_end", "Last frame", "frame_to", "max(last_frame)", SCOPE_ROWS),
    var.box_number("at_frame", "Trail end", "frame", "$range_end"),
    BIN_SIZE,
    var.box_number("min_bin_count", "Min count per cell", "min_count", "1"),
    var.box_number(
        "window_frames", "Window length", "window", str(DEFAULT_WINDOW), sql_type="bigint"
    ),
    var.box_number("min_shared_frames", "Min shared frames", "min_shared", str(DEFAULT_MIN_SHARED)),
    var.box_number("trail_frames", "Trail length", "trail", str(DEFAULT_TRAIL)),
]

VARIABLES = [
    var.SESSION,
    SCOPE,
    var.EPISODE,
    SCOPE_EPISODE_IDS,
    SCOPE_AGENT_TYPE,
    var.FRAME_FROM,
    var.FRAME_TO,
    BIN,
    MIN_COUNT,
    PROPERTY,
    QUANTILE_CHOICE,
    WINDOW,
    MIN_SHARED,
    FRAME,
    TRAIL,
    *NUMBERS,
]

# --- density and velocity per cell -------------------------------------------------------------

# The cell size as a number of the columns' type (Grafana writes it in as a numeric literal).
CELL = "cast($bin_size as double precision)"
IN_SCOPE = chosen_agents(episodes=SCOPE_EPISODES, mart="observations", joins="\ncross join episode")

DENSITY = heatmap(
    "Density",
    "observations: agent-frames of the chosen agent types in each cell of the chosen bin size "
    "over the frame range, seen from above (3D: x across, z up; otherwise x and y), for the "
    "episode or the whole session (Scope); cells under Min count are blank.",
    f"""with episode as (
    {EPISODE_TOP_DOWN_AXIS}
),

cells as (
    select
        floor(w.x / {CELL}) as i,
        floor({plane("w.")} / {CELL}) as j,
        count(*) as observations
    {IN_SCOPE.replace(chr(10), chr(10) + "    ")}
    group by 1, 2
),

bounds as (
    select min(i) as first_column, max(i) as last_column, min(j) as first_row, max(j) as last_row
    from cells
    where j is not null
)

-- every cell of the bounding grid, in (x, y) order: the heatmap needs a dense grid
select
    grid_x.i * {CELL} as x,
    grid_y.j * {CELL} as y,
    case when cells.observations >= $min_bin_count then cells.observations else 0 end as count
from bounds
cross join generate_series(cast(bounds.first_column as bigint), cast(bounds.last_column as bigint))
    as grid_x (i)
cross join generate_series(cast(bounds.first_row as bigint), cast(bounds.last_row as bigint))
    as grid_y (j)
left join cells on cells.i = grid_x.i and cells.j = grid_y.j
order by x, y""",
    value="count",
    unit="none",
    decimals=0,
    axis_label="y (3D: z), lower cell edge",
)

VELOCITY = xychart(
    "Mean velocity per cell",
    "observations: mean velocity of the chosen agent types in each cell of the chosen bin size "
    "over the frame range (episode or session), seen from above. Arrows start at the cell "
    "centre; the longest is 0.9 cells, the others scaled alike; none in cells under Min count.",
    f"""with episode as (
    {EPISODE_TOP_DOWN_AXIS}
),

{velocity_arrows(CELL, IN_SCOPE, "$min_bin_count")}""",
    x="px",
    y="py",
    show="lines",
    transformations=[
        {"id": "partitionByValues", "options": {"fields": ["arrow"], "keepFields": False}}
    ],
    field_color={"mode": "fixed", "fixedColor": "blue"},
    axis_label="y (3D: z)",
    h=12,
)

# --- the chosen property ---------------------------------------------------------------------

PROPERTY_DEFINITIONS = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "ref_property_definitions.csv"
)


def float_properties() -> list[str]:
    """The numeric property ids: each is a column of observation_properties_wide."""
    with PROPERTY_DEFINITIONS.open(encoding="utf-8", newline="") as definitions:
        return [
            row["property_id"] for row in csv.DictReader(definitions) if row["data_type"] == "float"
        ]


# The chosen property's column of the wide model (one index range scan per episode, no join
# to extended_properties). The choice reaches SQL as a quoted literal compared with the
# known ids: any other value is NULL, so its panels are empty.
CHOSEN_PROPERTY = (
    "case ${property:sqlstring}\n"
    + "".join(f"        when '{p}' then w.{p}\n" for p in float_properties())
    + "    end"
)
PROPERTY_VALUES = f"""chosen as (
    select w.time_index, {CHOSEN_PROPERTY} as value
    {chosen_agents(episodes=SCOPE_EPISODES).replace(chr(10), chr(10) + "    ")}
),

property_values as (
    select time_index, value from chosen where value is not null
)"""
CHOSEN_QUANTILES = "cast(array[${quantiles:sqlstring}] as double precision[])"

PROPERTY_WINDOWS = trend(
    "Property per window: mean and quantiles",
    "observation_properties_wide: the chosen property of the chosen agent types in consecutive "
    "windows "
    "of Window frames from the start of the range, pooled over the scope: the mean and the "
    "chosen quantiles (continuous), drawn at each window's first frame.",
    f"""with {PROPERTY_VALUES},

windows as (
    select
        $range_start + (time_index - $range_start) / $window_frames * $window_frames as frame,
        avg(value) as mean,
        percentile_cont({CHOSEN_QUANTILES}) within group (order by value) as quantile_values
    from property_values
    group by 1
)

select windows.frame, q.series, q.value
from windows
cross join lateral (
    select 'mean' as series, windows.mean as value
    union all
    select 'q' || quantile, quantile_value
    from unnest(cast(array[${{quantiles:sqlstring}}] as text[]), windows.quantile_values)
        as chosen (quantile, quantile_value)
) as q
order by windows.frame, q.series""",
    "property value",
    transformations=pivot("series", "value"),
)

PROPERTY_HISTOGRAM = barchart(
    "Property distribution",
    f"observation_properties_wide: the chosen property of the chosen agent types over the frame "
    f"range, "
    f"pooled over the scope, in {HISTOGRAM_BINS} equal bins from its minimum to its maximum "
    "(bin: lower edge).",
    f"""with {PROPERTY_VALUES},

bounds as (
    select min(value) as low, (max(value) - min(value)) / {HISTOGRAM_BINS} as width
    from property_values
),

binned as (
    select
        least(coalesce(floor((v.value - b.low) / nullif(b.width, 0)), 0), {HISTOGRAM_BINS - 1})
            as bin,
        count(*) as observations
    from property_values as v
    cross join bounds as b
    group by 1
)

select
    cast(round(cast(b.low + binned.bin * b.width as numeric), 4) as text) as bin,
    binned.observations as count
from binned
cross join bounds as b
order by binned.bin""",
    "bin",
    "observations",
)

# --- pairs of agents (the chosen episode) ------------------------------------------------------

# Pairs of agents are joined and grouped on a small integer key per agent: much cheaper than
# on the (type, id) text and integer pair.
AGENT_KEYS = "dense_rank() over (order by w.agent_type_id, w.agent_id) as k"

PAIR_DISTANCES = trend(
    "Pairwise distances: median and interquartile range",
    "pairwise_frame_stats: per frame, the distances between all pairs of agents in the chosen "
    "episode (all agent types, as the mart computes them): 25th percentile, median, 75th "
    "percentile, over the frame range (frames with two agents or more).",
    per_frame(
        "pairwise_frame_stats",
        "p25_pairwise_distance as p25",
        "median_pairwise_distance as median",
        "p75_pairwise_distance as p75",
    ),
    "distance",
)

RELATIVE_VELOCITY = trend(
    "Relative velocity |v_i - v_j|: median and mean",
    "pairwise_frame_stats: per frame, the magnitude of the velocity difference of every pair "
    "of agents in the chosen episode (all agent types), position units per frame, over the "
    "frame range.",
    per_frame(
        "pairwise_frame_stats",
        "median_relative_speed as median",
        "mean_relative_speed as mean",
    ),
    "|v_i - v_j|",
)

PAIR_CORRELATIONS = table(
    "Agent pairs: correlation of distance to target, and of velocity",
    "For each pair of agents of the chosen types in the chosen episode seen together in at "
    "least Min shared frames of the range, the Pearson correlation of their distances to the "
    "nearest target over those frames (agent_pair_distance_correlation when the range is the "
    "whole episode, computed from observation_properties_wide otherwise), and "
    "(agent_pair_velocity_correlation, whole episode) of their velocity components. Strongest "
    "first.",
    f"""with whole_episode as (
    -- the range covers the episode: its pairs are read from the mart, not computed
    select $range_start <= first_frame and $range_end >= last_frame as covered
    from marts.episodes
    where episode_id = $episode
),

agents as materialized (
    select
        w.time_index,
        w.agent_type_id,
        w.agent_id,
        {AGENT_KEYS},
        w.distance_to_target
    {chosen_agents().replace(chr(10), chr(10) + "    ")}
        and w.distance_to_target is not null
        and not (select covered from whole_episode)
),

pair_moments as (
    -- computed only when the range is a part of the episode (one-time filters above and here)
    select
        min(a.agent_type_id) as type_a,
        min(a.agent_id) as agent_a,
        min(b.agent_type_id) as type_b,
        min(b.agent_id) as agent_b,
        count(*) as shared_frames,
        corr(a.distance_to_target, b.distance_to_target) as distance_correlation
    from agents as a
    inner join agents as b on b.time_index = a.time_index and b.k > a.k
    where not (select covered from whole_episode)
    group by a.k, b.k
    having count(*) >= $min_shared_frames
),

distance_correlation as (
    select
        c.agent_type_id_a as type_a,
        c.agent_id_a as agent_a,
        c.agent_type_id_b as type_b,
        c.agent_id_b as agent_b,
        c.num_shared_frames as shared_frames,
        c.distance_correlation
    from marts.agent_pair_distance_correlation as c
    where (select covered from whole_episode)
        and c.episode_id = $episode
        and c.agent_type_id_a in ($agent_type)
        and c.agent_type_id_b in ($agent_type)
        and c.num_shared_frames >= $min_shared_frames
    union all
    select * from pair_moments
)

select
    d.type_a,
    d.agent_a,
    d.type_b,
    d.agent_b,
    d.shared_frames,
    d.distance_correlation,
    v.velocity_correlation_x,
    v.velocity_correlation_y,
    v.velocity_correlation_z
from distance_correlation as d
left join marts.agent_pair_velocity_correlation as v
    on v.episode_id = $episode
    and v.agent_type_id_a = d.type_a
    and v.agent_id_a = d.agent_a
    and v.agent_type_id_b = d.type_b
    and v.agent_id_b = d.agent_b
order by abs(d.distance_correlation) desc nulls last, d.type_a, d.agent_a, d.type_b, d.agent_b""",
    w=24,
    h=10,
)

# --- trails -----------------------------------------------------------------------------------

TRAIL_FRAMES = (
    "w.time_index between greatest($range_start, $at_frame - $trail_frames + 1) and $at_frame"
)


def trails(title: str, across: str, up: str, seen: str) -> Json:
    """Positions of the chosen agents over the trail's frames, one path per agent coloured by
    frame, on the plane of the columns `across` and `up`."""
    return xychart(
        f"Trails: {title}",
        f"observations: the paths of the agents of the chosen types in the chosen episode over "
        f"the last Trail frames up to At frame, {seen}, coloured by frame (later: warmer).",
        f"""select
    cast(w.agent_type_id as text) || ':' || cast(w.agent_id as text) as agent,
    w.{across} as px,
    w.{up} as py,
    w.time_index as frame
{chosen_agents(TRAIL_FRAMES, mart="observations")}
    and w.{across} is not null and w.{up} is not null
order by agent, w.time_index""",
        x="px",
        y="py",
        color="frame",
        show="points",
        transformations=[
            {"id": "partitionByValues", "options": {"fields": ["agent"], "keepFields": False}}
        ],
        axis_label=up,
        w=8,
        h=10,
    )


PANELS: list[Json] = [
    DENSITY,
    VELOCITY,
    PROPERTY_WINDOWS,
    PROPERTY_HISTOGRAM,
    PAIR_DISTANCES,
    RELATIVE_VELOCITY,
    PAIR_CORRELATIONS,
    trails("x and y", "x", "y", "x across and y up (2D, tracking; for 3D boids y is the height)"),
    trails("x and z", "x", "z", "from above for 3D boids (no rows for 2D data)"),
    trails("z and y", "z", "y", "from the front for 3D boids (no rows for 2D data)"),
]
