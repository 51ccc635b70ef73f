{#- Renames to the warehouse's vocabulary; the food agent of a food dataset gets agent type
    `food`, every other agent `agent`. -#}
select
    episode_id,
    t as time_index,
    agent as agent_id,
    case when is_food then 'food' else 'agent' end as agent_type_id,
    x,
    y,
    acc_x,
    acc_y,
    attn_weight_self,
    attn_weight_boid,
    attn_weight_food,
    batch_loss
from {{ source_or_empty('boids_2d_rollout', 'boids_2d_rollout_frames') }} as src
