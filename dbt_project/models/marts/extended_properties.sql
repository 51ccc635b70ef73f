{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='episode_id',
    on_schema_change='fail',
    post_hook="{{ record_built_episodes() }}",
    indexes=indexes([
        {'columns': ['episode_id', 'property_id', 'observation_id'], 'unique': true},
    ])
) }}

select
    observation_id,
    episode_id,
    property_id,
    value_float,
    value_text
from {{ ref('int_property_values') }}
{% if is_incremental() %}
where episode_id in ({{ episodes_to_build() }})
{% endif %}
