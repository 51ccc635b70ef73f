{{ config(
    materialized='incremental',
    indexes=indexes([
        {'columns': ['observation_id'], 'unique': true},
        {'columns': ['episode_id', 'time_index', 'agent_id', 'agent_type_id'], 'unique': true},
    ])
) }}

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
from {{ episodes_to_build(ref('int_observations')) }}
