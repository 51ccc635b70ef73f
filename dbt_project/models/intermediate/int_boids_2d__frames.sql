{#- 2D frames with their observation_id, velocities and distance to the food, computed once
    here for both the observations and the extended properties built from them
    (planar_motion_columns()). The food never moves: its velocity is 0. -#}
with frames as (
    select
        frames.*,
        sessions.food_x,
        sessions.food_y
    from {{ ref('stg_boids_2d__frames') }} as frames
    left join {{ ref('stg_boids_2d__episodes') }} as episodes
        on episodes.episode_id = frames.episode_id
    left join {{ ref('stg_boids_2d__sessions') }} as sessions
        on sessions.session_id = episodes.session_id
)

select
    {{ observation_key_columns() }},
    species,
    x,
    y,
    {{ planar_motion_columns() }}
from frames
window agent_frames as ({{ entity_frames() }})
