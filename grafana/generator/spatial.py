"""Dashboard "spatial": one episode seen from above (spatial_occupancy, observations and the
wide model at a chosen frame)."""

from __future__ import annotations

from grafana.generator import variables as var
from grafana.generator.builders import (
    Json,
    field_config,
    heatmap,
    legend,
    panel,
    query_variable,
    table,
    tooltip,
    xychart,
)
from grafana.generator.sql import (
    AGENTS_OF_TYPES,
    EPISODE_TOP_DOWN_AXIS,
    chosen_agents,
    plane,
    velocity_arrows,
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
    case when bool_or(w.distance_to_target is not null) then 'w.distance_to_target' end,
    case when bool_or(w.bbox_x1 is not null or w.confidence is not null)
        then 'w.bbox_x1, w.bbox_y1, w.bbox_x2, w.bbox_y2, w.confidence, w.detection_class' end)
from marts.observation_properties_wide as w
where w.episode_id = $episode""",
    hide=2,
)

VARIABLES = [*var.episode_variables(agent_types=True, chosen_frame=True), STATE_COLUMNS]

OCCUPANCY = heatmap(
    "Occupancy (top-down, whole episode)",
    "spatial_occupancy: share of the episode's agent-frames in each bin (bin size: var "
    "occupancy_bin_size), seen from above: x across, z up for 3D boids (y is the height, "
    "summed over), y up otherwise. Covers the whole episode, all agents.",
    f"""with episode as (
    {EPISODE_TOP_DOWN_AXIS}
),

cells as (
    select
        o.bin_size,
        o.bin_x as column_index,
        {plane("o.bin_")} as row_index,
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
    value="occupancy",
    unit="percentunit",
    decimals=2,
    axis_label="y (3D: z), lower bin edge",
)

# the velocity field's cells: twice the occupancy bins, which they would otherwise crowd
VELOCITY_CELL = (
    "(select 2 * max(bin_size) from marts.spatial_occupancy where episode_id = $episode)"
)
MOVING_AGENTS = chosen_agents(mart="observations", joins="\ncross join episode")

VELOCITY_FIELD = xychart(
    "Velocity field",
    "observations: mean velocity of the agents of the chosen agent types in each cell "
    "(twice the occupancy bin size) over the frame range, seen from above (3D: x and z; "
    "otherwise x and y). Arrows start at the cell centre; the longest is 0.9 cells, the "
    "others are scaled alike.",
    f"""with episode as (
    {EPISODE_TOP_DOWN_AXIS}
),

{velocity_arrows(VELOCITY_CELL, MOVING_AGENTS)}""",
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

AT_CHOSEN_FRAME = "w.time_index = $at_frame"

PANELS: list[Json] = [
    OCCUPANCY,
    VELOCITY_FIELD,
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
cross join ({EPISODE_TOP_DOWN_AXIS}) as episode
where w.episode_id = $episode and {AT_CHOSEN_FRAME}
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
{chosen_agents()}
    and w.speed is not null""",
        fieldConfig=field_config(
            unit="none",
            color={"mode": "palette-classic"},
            custom={"fillOpacity": 80, "lineWidth": 1, "gradientMode": "none"},
        ),
        options={
            "bucketCount": 30,
            "combine": False,
            "legend": legend(False),
            "tooltip": tooltip("single"),
        },
    ),
    table(
        "Agent state at the chosen frame",
        "observation_properties_wide: position, velocity and properties of the agents of the "
        "chosen agent types at the chosen frame (At frame). Columns follow the episode: z and "
        "v_z only for 3D data, the distance to the nearest target only where there are "
        "targets, boxes and confidence only for tracking files with boxes.",
        f"""select
    w.agent_type_id as "type",
    w.agent_id as "agent",
    ${{state_columns:raw}}
{chosen_agents(AT_CHOSEN_FRAME)}
order by w.agent_type_id, w.agent_id""",
        w=24,
        h=10,
    ),
]
