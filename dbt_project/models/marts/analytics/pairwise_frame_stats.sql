{{ config(indexes=indexes([{'columns': ['episode_id', 'time_index'], 'unique': true}])) }}
{#- Per episode and frame with at least two non-environment agents: nearest-neighbour and
    inter-agent distances (an O(N²) self-join per frame, restricted to the agents) and the
    polarisation of the headings.

    The join yields each pair from both ends (ordered pairs), so that one aggregation per agent
    gives its nearest neighbour and the sums of its distances; the mean pairwise distance is
    their total over the frame's ordered pairs, each unordered pair counted twice. The
    quartiles of the distances and the relative velocities |v_a − v_b| take each unordered
    pair once (a second self-join: percentiles of ordered pairs would count each twice). #}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

agent_distances as (
    -- per agent of a frame: its nearest other agent and the sum of its distances to the others
    select
        episode_id,
        time_index,
        min(distance) as nearest_neighbour_distance,
        sum(distance) as sum_distances,
        count(*) as num_others
    from (
        select
            a.episode_id,
            a.time_index,
            a.agent_type_id,
            a.agent_id,
            {{ position_distance('a.', 'b.') }} as distance
        from agent_frames as a
        inner join agent_frames as b
            on b.episode_id = a.episode_id
            and b.time_index = a.time_index
            and (b.agent_id <> a.agent_id or b.agent_type_id <> a.agent_type_id)
        -- each distance computed once: Postgres would inline it into both aggregates
        offset 0
    ) as pairs
    group by episode_id, time_index, agent_type_id, agent_id
),

frame_distances as (
    select
        episode_id,
        time_index,
        count(*) as num_agents,
        cast(sum(num_others) / 2 as bigint) as num_pairs,
        sum(sum_distances) / cast(sum(num_others) as {{ tracking.type_double() }}) as mean_pairwise_distance,
        avg(nearest_neighbour_distance) as mean_nearest_neighbour_distance,
        min(nearest_neighbour_distance) as min_nearest_neighbour_distance,
        max(nearest_neighbour_distance) as max_nearest_neighbour_distance
    from agent_distances
    group by episode_id, time_index
),

pair_spread as (
    select
        episode_id,
        time_index,
        {{ continuous_percentile('distance', 0.25) }} as p25_pairwise_distance,
        {{ continuous_percentile('distance', 0.5) }} as median_pairwise_distance,
        {{ continuous_percentile('distance', 0.75) }} as p75_pairwise_distance,
        avg(relative_speed) as mean_relative_speed,
        {{ continuous_percentile('relative_speed', 0.5) }} as median_relative_speed
    from (
        select
            a.episode_id,
            a.time_index,
            {{ position_distance('a.', 'b.') }} as distance,
            sqrt(
                (a.v_x - b.v_x) * (a.v_x - b.v_x)
                + (a.v_y - b.v_y) * (a.v_y - b.v_y)
                + coalesce((a.v_z - b.v_z) * (a.v_z - b.v_z), 0)
            ) as relative_speed
        from agent_frames as a
        inner join agent_frames as b
            on b.episode_id = a.episode_id
            and b.time_index = a.time_index
            and (
                b.agent_type_id > a.agent_type_id
                or (b.agent_type_id = a.agent_type_id and b.agent_id > a.agent_id)
            )
    ) as pairs
    group by episode_id, time_index
),

headings as (
    -- unit heading vectors of the agents that move
    select
        episode_id,
        time_index,
        count(*) as num_agents_with_heading,
        avg(v_x / speed) as mean_heading_x,
        avg(v_y / speed) as mean_heading_y,
        avg(coalesce(v_z, 0) / speed) as mean_heading_z
    from agent_frames
    where speed > 0
    group by episode_id, time_index
)

select
    frame_distances.episode_id,
    frame_distances.time_index,
    frame_distances.num_agents,
    frame_distances.num_pairs,
    frame_distances.mean_nearest_neighbour_distance,
    frame_distances.min_nearest_neighbour_distance,
    frame_distances.max_nearest_neighbour_distance,
    frame_distances.mean_pairwise_distance,
    pair_spread.p25_pairwise_distance,
    pair_spread.median_pairwise_distance,
    pair_spread.p75_pairwise_distance,
    pair_spread.mean_relative_speed,
    pair_spread.median_relative_speed,
    coalesce(headings.num_agents_with_heading, 0) as num_agents_with_heading,
    sqrt(
        headings.mean_heading_x * headings.mean_heading_x
        + headings.mean_heading_y * headings.mean_heading_y
        + headings.mean_heading_z * headings.mean_heading_z
    ) as polarisation
from frame_distances
inner join pair_spread
    on pair_spread.episode_id = frame_distances.episode_id
    and pair_spread.time_index = frame_distances.time_index
left join headings
    on headings.episode_id = frame_distances.episode_id
    and headings.time_index = frame_distances.time_index
