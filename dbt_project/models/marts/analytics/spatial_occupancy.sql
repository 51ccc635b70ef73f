{{ config(indexes=indexes([{'columns': ['episode_id']}])) }}
{#- Per episode and spatial bin: how often non-environment agents were there. Bins are cubes
    (squares for 2D sources, bin_z NULL) of side bin_size in source units, from var
    occupancy_bin_size (per category); bin index = floor(coordinate / bin_size). #}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

episodes as (
    select
        episode_id,
        {{ category_setting('occupancy_bin_size', 'category_id') }} as bin_size
    from {{ ref('episodes') }}
),

binned as (
    select
        agent_frames.episode_id,
        episodes.bin_size,
        cast(floor(agent_frames.x / episodes.bin_size) as bigint) as bin_x,
        cast(floor(agent_frames.y / episodes.bin_size) as bigint) as bin_y,
        cast(floor(agent_frames.z / episodes.bin_size) as bigint) as bin_z,
        agent_frames.time_index,
        agent_frames.agent_type_id,
        agent_frames.agent_id,
        agent_frames.speed
    from agent_frames
    inner join episodes on episodes.episode_id = agent_frames.episode_id
),

bins as (
    select
        episode_id,
        bin_size,
        bin_x,
        bin_y,
        bin_z,
        count(*) as num_observations,
        count(distinct time_index) as num_frames,
        count(distinct agent_type_id || '|' || cast(agent_id as {{ dbt.type_string() }}))
            as num_agents,
        avg(speed) as mean_speed
    from binned
    group by episode_id, bin_size, bin_x, bin_y, bin_z
)

select
    episode_id,
    bin_size,
    bin_x,
    bin_y,
    bin_z,
    bin_x * bin_size as x_min,
    bin_y * bin_size as y_min,
    bin_z * bin_size as z_min,
    num_observations,
    num_frames,
    num_agents,
    cast(num_observations as {{ tracking.type_double() }})
        / sum(num_observations) over (partition by episode_id) as occupancy_fraction,
    mean_speed
from bins
