{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='episode_id',
    on_schema_change='fail',
    post_hook="{{ record_built_episodes() }}",
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
from {{ ref('int_observations') }}
{% if is_incremental() %}
where episode_id in ({{ episodes_to_build() }})
{% endif %}
