with episodes as (
    select * from {{ ref('int_episodes') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

observation_stats as (
    select * from {{ ref('int_episode_stats') }}
)

select
    episodes.episode_id,
    episodes.session_id,
    episodes.category_id,
    episodes.episode_number,
    episodes.episode_name,
    coalesce(observation_stats.num_frames, 0) as num_frames,
    coalesce(observation_stats.num_agents, 0) as num_agents,
    coalesce(observation_stats.num_environment_entities, 0) as num_environment_entities,
    coalesce(observation_stats.num_observations, 0) as num_observations,
    observation_stats.first_frame,
    observation_stats.last_frame,
    cast(coalesce(sessions.config_frame_rate, {{ var('default_frame_rate') }}) as {{ tracking.type_double() }})
        as frame_rate,
    episodes.file_name,
    episodes.file_path,
    episodes.file_sha256,
    episodes.source_rows,
    episodes.role,
    episodes.derived_from_episode_id,
    episodes.counterpart_episode_id,
    episodes.metadata
from episodes
inner join sessions on sessions.session_id = episodes.session_id
left join observation_stats on observation_stats.episode_id = episodes.episode_id
