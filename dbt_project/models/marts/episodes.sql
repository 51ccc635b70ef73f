with episodes as (
    select * from {{ ref('int_episodes') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

agent_types as (
    select * from {{ ref('agent_types') }}
),

observation_stats as (
    select
        observations.episode_id,
        count(*) as num_observations,
        count(distinct observations.time_index) as num_frames,
        min(observations.time_index) as first_frame,
        max(observations.time_index) as last_frame,
        count(distinct case when not agent_types.is_environment then observations.agent_id end)
            as num_agents,
        count(distinct case when agent_types.is_environment then observations.agent_id end)
            as num_environment_entities
    from {{ ref('int_observations') }} as observations
    inner join agent_types on agent_types.agent_type_id = observations.agent_type_id
    group by observations.episode_id
)

select
    episodes.episode_id,
    episodes.session_id,
    episodes.category_id,
    episodes.episode_number,
    episodes.episode_name,
    observation_stats.num_frames,
    observation_stats.num_agents,
    observation_stats.num_environment_entities,
    observation_stats.num_observations,
    observation_stats.first_frame,
    observation_stats.last_frame,
    cast(coalesce(sessions.config_frame_rate, {{ var('default_frame_rate') }}) as double precision)
        as frame_rate,
    episodes.file_name,
    episodes.file_path,
    episodes.file_sha256,
    episodes.source_rows
from episodes
inner join sessions on sessions.session_id = episodes.session_id
left join observation_stats on observation_stats.episode_id = episodes.episode_id
