{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='episode_id',
    on_schema_change='fail',
    post_hook="{{ record_built_episodes() }}",
    indexes=indexes([
        {'columns': ['episode_id', 'property_id']},
        {'columns': ['episode_id', 'observation_id', 'property_id'], 'unique': true},
    ])
) }}
{#- Postgres indexes: (episode_id, property_id) for the dashboards' reads of a property over an
    episode (140 distinct keys in W1, so deduplicated: 86 MB); the unique index enforces the
    table's key while writing, the observation before the property so that building it sorts
    on integers (4.8 s for W1's 12.6 M rows, against 10.2 s for (episode_id, property_id,
    observation_id)), with a new episode's entries together. An observation belongs to one
    episode (the foreign key tested in _marts.yml), so it enforces (observation_id,
    property_id). -#}

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
