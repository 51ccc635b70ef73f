{{ config(
    pre_hook="{{ prefer_hash_aggregation() }}",
    indexes=indexes([{'columns': ['episode_id']}])
) }}
{#- Per episode and unordered pair of non-environment agents (a before b by agent_type_id, then
    agent_id) with a frame in which both have a distance to the nearest target: the Pearson
    correlation of the two distances over those frames. The explore dashboard reads it for its
    whole-episode view and computes other frame ranges at query time. Shifted sums as in
    agent_pair_velocity_correlation; NULL with fewer than two shared frames or when either
    series is constant (guarded_correlation). #}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

distances as (
    select
        episode_id,
        time_index,
        -- one integer per agent of the episode: cheaper to join, sort and group on
        dense_rank() over (partition by episode_id order by agent_type_id, agent_id) as entity,
        agent_type_id,
        agent_id,
        distance_to_target - min(distance_to_target) over agent as shifted,
        max(abs(distance_to_target)) over agent as scale
    from agent_frames
    where distance_to_target is not null
    window agent as (partition by episode_id, agent_type_id, agent_id)
),

agents as (
    select distinct episode_id, entity, agent_type_id, agent_id, scale
    from distances
),

pair_sums as (
    select
        a.episode_id,
        a.entity as entity_a,
        b.entity as entity_b,
        count(*) as n,
        sum(a.shifted) as sum_a,
        sum(b.shifted) as sum_b,
        sum(a.shifted * a.shifted) as sum_aa,
        sum(b.shifted * b.shifted) as sum_bb,
        sum(a.shifted * b.shifted) as sum_ab
    {{ same_frame_pairs('distances') }}
),

moments as (
    -- n times the (co)variances of the shifted distances over the shared frames
    select
        *,
        sum_aa - sum_a * sum_a / n as var_a,
        sum_bb - sum_b * sum_b / n as var_b,
        sum_ab - sum_a * sum_b / n as cov
    from pair_sums
)

select
    moments.episode_id,
    agent_a.agent_type_id as agent_type_id_a,
    agent_a.agent_id as agent_id_a,
    agent_b.agent_type_id as agent_type_id_b,
    agent_b.agent_id as agent_id_b,
    moments.n as num_shared_frames,
    {{ guarded_correlation(
        'moments.n', 'moments.var_a', 'moments.var_b', 'moments.cov',
        'agent_a.scale', 'agent_b.scale') }} as distance_correlation
from moments
inner join agents as agent_a
    on agent_a.episode_id = moments.episode_id and agent_a.entity = moments.entity_a
inner join agents as agent_b
    on agent_b.episode_id = moments.episode_id and agent_b.entity = moments.entity_b
