{{ config(
    pre_hook="{{ prefer_hash_aggregation() }}",
    indexes=indexes([{'columns': ['episode_id']}])
) }}
{#- Per episode and unordered pair of non-environment agents (a before b by agent_type_id, then
    agent_id): how alike their velocities are over the frames where both have one.

    velocity_correlation_<c>: the Pearson correlation of the c components of a and b over the
    common frames. Computed from sums of each agent's values shifted by its smallest value in
    the episode (the correlation does not change under a shift, and shifted values keep the
    sums well conditioned and identical on both targets); NULL with fewer than two common
    frames or when either series is constant (guarded_correlation).
    heading_alignment: the mean over the common frames where both move of the cosine between
    the two velocities, v_a·v_b / (|v_a| |v_b|). #}
{%- set components = ['x', 'y', 'z'] %}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

moving as (
    -- agents with a velocity (v_x and v_y, hence a speed); z only where both have one
    select
        episode_id,
        time_index,
        -- one integer per agent of the episode: cheaper to join, sort and group on
        dense_rank() over (partition by episode_id order by agent_type_id, agent_id) as entity,
        agent_type_id,
        agent_id,
        speed,
        v_x,
        v_y,
        v_z,
        {%- for c in components %}
        v_{{ c }} - min(v_{{ c }}) over agent as shifted_v_{{ c }},
        max(abs(v_{{ c }})) over agent as scale_v_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from agent_frames
    where speed is not null
    window agent as (partition by episode_id, agent_type_id, agent_id)
),

agents as (
    select distinct
        episode_id,
        entity,
        agent_type_id,
        agent_id,
        {%- for c in components %}
        scale_v_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from moving
),

pair_sums as (
    select
        a.episode_id,
        a.entity as entity_a,
        b.entity as entity_b,
        count(*) as n_x,
        count(*) as n_y,
        -- 0 for 2D sources
        count(a.v_z * b.v_z) as n_z,
        {%- for c in components %}
        {%- set a_c = 'a.shifted_v_' ~ c %}
        {%- set b_c = 'b.shifted_v_' ~ c %}
        {%- if c == 'z' %}
            {%- set a_c = 'case when b.v_z is not null then a.shifted_v_z end' %}
            {%- set b_c = 'case when a.v_z is not null then b.shifted_v_z end' %}
        {%- endif %}
        sum({{ a_c }}) as sum_a_{{ c }},
        sum({{ b_c }}) as sum_b_{{ c }},
        sum(({{ a_c }}) * ({{ a_c }})) as sum_aa_{{ c }},
        sum(({{ b_c }}) * ({{ b_c }})) as sum_bb_{{ c }},
        sum(a.shifted_v_{{ c }} * b.shifted_v_{{ c }}) as sum_ab_{{ c }},
        {%- endfor %}
        sum(case when a.speed > 0 and b.speed > 0
            then (a.v_x * b.v_x + a.v_y * b.v_y + coalesce(a.v_z * b.v_z, 0)) / (a.speed * b.speed)
        end) as sum_cosine,
        count(case when a.speed > 0 and b.speed > 0 then 1 end) as num_alignment_frames
    {{ same_frame_pairs('moving') }}
),

moments as (
    -- n times the (co)variances of the shifted values over the common frames
    select
        *,
        {%- for c in components %}
        sum_aa_{{ c }} - sum_a_{{ c }} * sum_a_{{ c }} / nullif(n_{{ c }}, 0) as var_a_{{ c }},
        sum_bb_{{ c }} - sum_b_{{ c }} * sum_b_{{ c }} / nullif(n_{{ c }}, 0) as var_b_{{ c }},
        sum_ab_{{ c }} - sum_a_{{ c }} * sum_b_{{ c }} / nullif(n_{{ c }}, 0) as cov_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from pair_sums
)

select
    moments.episode_id,
    agent_a.agent_type_id as agent_type_id_a,
    agent_a.agent_id as agent_id_a,
    agent_b.agent_type_id as agent_type_id_b,
    agent_b.agent_id as agent_id_b,
    moments.n_x as num_common_frames,
    {%- for c in components %}
    {{ guarded_correlation(
        'moments.n_' ~ c, 'moments.var_a_' ~ c, 'moments.var_b_' ~ c, 'moments.cov_' ~ c,
        'agent_a.scale_v_' ~ c, 'agent_b.scale_v_' ~ c) }} as velocity_correlation_{{ c }},
    {%- endfor %}
    -- clamped: the cosine of (anti)parallel vectors can leave [-1, 1] by rounding
    {{ clamp('moments.sum_cosine / nullif(moments.num_alignment_frames, 0)', '-1.0', '1.0') }}
        as heading_alignment,
    moments.num_alignment_frames
from moments
inner join agents as agent_a
    on agent_a.episode_id = moments.episode_id and agent_a.entity = moments.entity_a
inner join agents as agent_b
    on agent_b.episode_id = moments.episode_id and agent_b.entity = moments.entity_b
