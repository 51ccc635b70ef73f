{#
  What the 2D families (boids_2d, boids_2d_rollout) derive alike in their int_<family>__frames,
  from a relation with episode_id, time_index, agent_id, agent_type_id, x, y and the session's
  food_x, food_y: no z; the velocity as the forward difference per agent in pixels per frame,
  v[t] = p[t + 1] - p[t] (NULL on the agent's last frame); and distance_to_food, for every
  agent that is not the food itself, to the session's food point (NULL without food). The
  select using them ends with `window agent_frames as ({{ entity_frames() }})`.
#}
{% macro planar_motion_columns() -%}
    cast(null as {{ tracking.type_double() }}) as z,
    (lead(x) over agent_frames) - x as v_x,
    (lead(y) over agent_frames) - y as v_y,
    cast(null as {{ tracking.type_double() }}) as v_z,
    case
        when agent_type_id = 'agent'
            then sqrt((x - food_x) * (x - food_x) + (y - food_y) * (y - food_y))
    end as distance_to_food
{%- endmacro %}
