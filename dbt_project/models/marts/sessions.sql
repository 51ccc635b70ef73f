with sessions as (
    select * from {{ ref('int_sessions') }}
),

episode_counts as (
    select session_id, count(*) as num_episodes
    from {{ ref('int_episodes') }}
    group by session_id
)

select
    sessions.session_id,
    sessions.session_name,
    sessions.category_id,
    {{ json_from_text('sessions.config_json') }} as config,
    sessions.metadata,
    sessions.started_at,
    coalesce(episode_counts.num_episodes, 0) as num_episodes
from sessions
left join episode_counts on episode_counts.session_id = sessions.session_id
