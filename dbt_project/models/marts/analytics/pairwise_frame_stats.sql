{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='episode_id',
    on_schema_change='fail',
    post_hook="{{ record_built_episodes() }}",
    indexes=[{'columns': ['episode_id', 'time_index'], 'unique': true}]
) }}
-- depends_on: {{ ref('property_definitions') }}
{#- Per episode and frame with at least two non-environment agents: nearest-neighbour and
    inter-agent distances (an O(N²) self-join per frame, restricted to the agents) and the
    polarisation of the headings. #}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

numbered as (
    -- one integer per agent of the episode: cheaper to join, sort and group on
    select
        episode_id,
        time_index,
        dense_rank() over (partition by episode_id order by agent_type_id, agent_id) as entity,
        x,
        y,
        z
    from agent_frames
),

pairs as (
    -- unordered pairs {a, b} of agents of the same frame, with their distance
    select
        a.episode_id,
        a.time_index,
        a.entity as entity_a,
        b.entity as entity_b,
        {{ position_distance('a.', 'b.') }} as distance
    from numbered as a
    inner join numbered as b
        on b.episode_id = a.episode_id
        and b.time_index = a.time_index
        and b.entity > a.entity
),

pair_distances as (
    select
        episode_id,
        time_index,
        count(*) as num_pairs,
        avg(distance) as mean_pairwise_distance
    from pairs
    group by episode_id, time_index
),

nearest_neighbours as (
    -- each agent's nearest other agent, from both ends of every pair
    select episode_id, time_index, entity, min(distance) as nearest_neighbour_distance
    from (
        select episode_id, time_index, entity_a as entity, distance from pairs
        union all
        select episode_id, time_index, entity_b as entity, distance from pairs
    ) as ends
    group by episode_id, time_index, entity
),

neighbour_distances as (
    select
        episode_id,
        time_index,
        count(*) as num_agents,
        avg(nearest_neighbour_distance) as mean_nearest_neighbour_distance,
        min(nearest_neighbour_distance) as min_nearest_neighbour_distance,
        max(nearest_neighbour_distance) as max_nearest_neighbour_distance
    from nearest_neighbours
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
    neighbour_distances.episode_id,
    neighbour_distances.time_index,
    neighbour_distances.num_agents,
    pair_distances.num_pairs,
    neighbour_distances.mean_nearest_neighbour_distance,
    neighbour_distances.min_nearest_neighbour_distance,
    neighbour_distances.max_nearest_neighbour_distance,
    pair_distances.mean_pairwise_distance,
    coalesce(headings.num_agents_with_heading, 0) as num_agents_with_heading,
    sqrt(
        headings.mean_heading_x * headings.mean_heading_x
        + headings.mean_heading_y * headings.mean_heading_y
        + headings.mean_heading_z * headings.mean_heading_z
    ) as polarisation
from neighbour_distances
inner join pair_distances
    on pair_distances.episode_id = neighbour_distances.episode_id
    and pair_distances.time_index = neighbour_distances.time_index
left join headings
    on headings.episode_id = neighbour_distances.episode_id
    and headings.time_index = neighbour_distances.time_index
