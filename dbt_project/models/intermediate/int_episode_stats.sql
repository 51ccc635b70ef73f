{{ config(materialized='incremental') }}
{#- Per-episode counts over the observations, built per episode like the observations. A type
    the ref_agent_types seed does not list (an unmapped detector class, class_<label>) is an
    agent, not an environment entity. An episode without observations has no row here. -#}
with observations as (
    select * from {{ episodes_to_build(ref('int_observations')) }}
),

agent_types as (
    select * from {{ ref('ref_agent_types') }}
)

select
    observations.episode_id,
    count(*) as num_observations,
    count(distinct observations.time_index) as num_frames,
    min(observations.time_index) as first_frame,
    max(observations.time_index) as last_frame,
    count(distinct case when not coalesce(agent_types.is_environment, false)
        then observations.agent_id end) as num_agents,
    count(distinct case when agent_types.is_environment then observations.agent_id end)
        as num_environment_entities
from observations
left join agent_types on agent_types.agent_type_id = observations.agent_type_id
group by observations.episode_id
