{{ config(materialized='view') }}
{#- Observations of every source family in one shape. -#}
select
    observation_id,
    episode_id,
    time_index,
    agent_id,
    agent_type_id,
    x,
    y,
    z,
    v_x,
    v_y,
    v_z
from {{ ref('int_boids_3d__frames') }}
union all
select
    observation_id,
    episode_id,
    time_index,
    agent_id,
    agent_type_id,
    x,
    y,
    z,
    v_x,
    v_y,
    v_z
from {{ ref('int_tracking_csv__frames') }}
union all
select
    observation_id,
    episode_id,
    time_index,
    agent_id,
    agent_type_id,
    x,
    y,
    z,
    v_x,
    v_y,
    v_z
from {{ ref('int_boids_2d__frames') }}
