{{ config(
    materialized='incremental',
    pre_hook="{{ prefer_hash_aggregation() }}",
    indexes=indexes([{'columns': ['episode_id']}])
) }}
{#- Per episode and unordered pair of non-environment agents (a before b by agent_type_id, then
    agent_id) sharing a frame in which both have a velocity or both a distance to the nearest
    target: the columns of agent_pair_velocity_correlation and agent_pair_distance_correlation,
    from one self-join of the agent-frames by frame (the pair-frames are the costly part: 13 M
    for W1), which each mart then selects its pairs from.

    Each series s (v_x, v_y, v_z, distance_to_target) is summed over the frames where both
    agents have it: velocity components where both have a speed (v_z also where both have
    one), distances where both have one. The Pearson correlation of s comes from sums of each
    agent's values shifted by its smallest value in the episode (the correlation does not
    change under a shift, and shifted values keep the sums well conditioned and identical on
    every target); NULL with fewer than two common frames or when either series is constant
    (guarded_correlation). heading_alignment: the mean over the common frames where both move
    of the cosine between the two velocities, v_a·v_b / (|v_a| |v_b|). #}
{%- set components = ['x', 'y', 'z'] %}
{#- series: (name, value column, the column both agents need in a frame for it to count, the
    output column of its correlation) -#}
{%- set series = [
    ('v_x', 'v_x', 'speed', 'velocity_correlation_x'),
    ('v_y', 'v_y', 'speed', 'velocity_correlation_y'),
    ('v_z', 'v_z', 'v_z', 'velocity_correlation_z'),
    ('distance', 'distance_to_target', 'distance_to_target', 'distance_correlation'),
] %}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

frames as (
    -- velocities only where the agent has one (v_x and v_y, hence a speed)
    select
        episode_id,
        time_index,
        agent_type_id,
        agent_id,
        speed,
        {%- for c in components %}
        case when speed is not null then v_{{ c }} end as v_{{ c }},
        {%- endfor %}
        distance_to_target
    from agent_frames
    where speed is not null or distance_to_target is not null
),

shifted as (
    select
        episode_id,
        time_index,
        -- one integer per agent of the episode: cheaper to join, sort and group on
        dense_rank() over (partition by episode_id order by agent_type_id, agent_id) as entity,
        agent_type_id,
        agent_id,
        speed,
        {%- for name, column, _, _ in series %}
        {{ column }},
        {{ column }} - min({{ column }}) over agent as shifted_{{ name }},
        max(abs({{ column }})) over agent as scale_{{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from frames
    window agent as (partition by episode_id, agent_type_id, agent_id)
),

agents as (
    select distinct
        episode_id,
        entity,
        agent_type_id,
        agent_id,
        {%- for name, _, _, _ in series %}
        scale_{{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from shifted
),

pair_sums as (
    select
        a.episode_id,
        a.entity as entity_a,
        b.entity as entity_b,
        {%- for name, _, needs, _ in series %}
        {%- set a_s = 'case when b.' ~ needs ~ ' is not null then a.shifted_' ~ name ~ ' end' %}
        {%- set b_s = 'case when a.' ~ needs ~ ' is not null then b.shifted_' ~ name ~ ' end' %}
        count(case when a.{{ needs }} is not null and b.{{ needs }} is not null then 1 end)
            as n_{{ name }},
        sum({{ a_s }}) as sum_a_{{ name }},
        sum({{ b_s }}) as sum_b_{{ name }},
        sum(({{ a_s }}) * ({{ a_s }})) as sum_aa_{{ name }},
        sum(({{ b_s }}) * ({{ b_s }})) as sum_bb_{{ name }},
        sum(a.shifted_{{ name }} * b.shifted_{{ name }}) as sum_ab_{{ name }},
        {%- endfor %}
        sum(case when a.speed > 0 and b.speed > 0
            then (a.v_x * b.v_x + a.v_y * b.v_y + coalesce(a.v_z * b.v_z, 0)) / (a.speed * b.speed)
        end) as sum_cosine,
        count(case when a.speed > 0 and b.speed > 0 then 1 end) as num_alignment_frames
    {{ same_frame_pairs('shifted') }}
),

moments as (
    -- n times the (co)variances of the shifted values over the common frames
    select
        *,
        {%- for name, _, _, _ in series %}
        sum_aa_{{ name }} - sum_a_{{ name }} * sum_a_{{ name }} / nullif(n_{{ name }}, 0) as var_a_{{ name }},
        sum_bb_{{ name }} - sum_b_{{ name }} * sum_b_{{ name }} / nullif(n_{{ name }}, 0) as var_b_{{ name }},
        sum_ab_{{ name }} - sum_a_{{ name }} * sum_b_{{ name }} / nullif(n_{{ name }}, 0) as cov_{{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from pair_sums
)

select
    moments.episode_id,
    agent_a.agent_type_id as agent_type_id_a,
    agent_a.agent_id as agent_id_a,
    agent_b.agent_type_id as agent_type_id_b,
    agent_b.agent_id as agent_id_b,
    moments.n_v_x as num_common_frames,
    {%- for name, _, _, correlation in series %}
    {{ guarded_correlation(
        'moments.n_' ~ name, 'moments.var_a_' ~ name, 'moments.var_b_' ~ name, 'moments.cov_' ~ name,
        'agent_a.scale_' ~ name, 'agent_b.scale_' ~ name) }}
        as {{ correlation }},
    {%- endfor %}
    -- clamped: the cosine of (anti)parallel vectors can leave [-1, 1] by rounding
    {{ clamp('moments.sum_cosine / nullif(moments.num_alignment_frames, 0)', '-1.0', '1.0') }}
        as heading_alignment,
    moments.num_alignment_frames,
    moments.n_distance as num_shared_frames
from moments
inner join agents as agent_a
    on agent_a.episode_id = moments.episode_id and agent_a.entity = moments.entity_a
inner join agents as agent_b
    on agent_b.episode_id = moments.episode_id and agent_b.entity = moments.entity_b
