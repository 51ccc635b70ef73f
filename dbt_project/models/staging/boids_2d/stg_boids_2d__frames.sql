{#- Renames to the warehouse's vocabulary; the food agent of a food dataset gets agent type
    `food`, every other agent `agent`. -#}
select
    episode_id,
    t as time_index,
    agent as agent_id,
    case when is_food then 'food' else 'agent' end as agent_type_id,
    species,
    x,
    y
from {{ source_or_empty('boids_2d', 'boids_2d_frames') }} as src
