{#- 2D frames with their observation_id, velocities and distance to the food, computed once
    here for both the observations and the extended properties built from them.

    Velocity: the forward difference per agent in pixels per frame, v[t] = p[t + 1] - p[t]
    (lead() over the agent's frames). An agent's last frame has no next position: its
    velocity is NULL. The food never moves: its velocity is 0. 2D sources have no z.
    distance_to_food: for the agents (not the food itself) of a dataset whose config states a
    food position, the distance in pixels to that position; NULL elsewhere. -#}
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
    {{ observation_id() }} as observation_id,
    episode_id,
    time_index,
    agent_id,
    agent_type_id,
    species,
    x,
    y,
    cast(null as double precision) as z,
    (lead(x) over agent_frames) - x as v_x,
    (lead(y) over agent_frames) - y as v_y,
    cast(null as double precision) as v_z,
    case
        when agent_type_id = 'agent'
            then sqrt((x - food_x) * (x - food_x) + (y - food_y) * (y - food_y))
    end as distance_to_food
from frames
window agent_frames as (partition by episode_id, agent_type_id, agent_id order by time_index)
