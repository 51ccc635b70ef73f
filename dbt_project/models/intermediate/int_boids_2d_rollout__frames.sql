{#- Rollout frames with their observation_id, velocities and distance to the food as for the
    2D datasets (planar_motion_columns()), their episode's session, counterpart and horizon,
    and the prediction error: on a predicted episode's row, the distance in pixels to the same
    agent at the same frame of its actual counterpart. -#}
with frames as (
    select
        frames.*,
        episodes.role,
        episodes.session_id,
        episodes.counterpart_episode_id,
        frames.time_index - sessions.start_frame as horizon,
        sessions.food_x,
        sessions.food_y
    from {{ ref('stg_boids_2d_rollout__frames') }} as frames
    left join {{ ref('stg_boids_2d_rollout__episodes') }} as episodes
        on episodes.episode_id = frames.episode_id
    left join {{ ref('stg_boids_2d_rollout__sessions') }} as sessions
        on sessions.session_id = episodes.session_id
),

paired as (
    select
        frames.*,
        actual.x as actual_x,
        actual.y as actual_y
    from frames
    left join frames as actual
        on frames.role = 'predicted'
        and actual.episode_id = frames.counterpart_episode_id
        and actual.time_index = frames.time_index
        and actual.agent_id = frames.agent_id
)

select
    {{ observation_key_columns() }},
    role,
    session_id,
    counterpart_episode_id,
    horizon,
    x,
    y,
    {{ planar_motion_columns() }},
    acc_x as rollout_acceleration_x,
    acc_y as rollout_acceleration_y,
    attn_weight_self,
    attn_weight_boid,
    attn_weight_food,
    sqrt((x - actual_x) * (x - actual_x) + (y - actual_y) * (y - actual_y)) as prediction_error,
    batch_loss
from paired
window agent_frames as ({{ entity_frames() }})
