{{ config(
    materialized='incremental',
    indexes=indexes([
        {'columns': ['episode_id', 'property_id']},
        {'columns': ['episode_id', 'observation_id', 'property_id'], 'unique': true},
    ])
) }}
{#- Postgres indexes: (episode_id, property_id) for the dashboards' reads of a property over an
    episode (few distinct keys, so small after deduplication); the unique index enforces the
    table's key while writing, the observation before the property so that building it sorts
    on integers (faster than (episode_id, property_id, observation_id): docs/benchmarks.md),
    with a new episode's entries together. An observation belongs to one episode (the
    foreign key tested in _marts.yml), so it enforces (observation_id, property_id). -#}

select
    observation_id,
    episode_id,
    property_id,
    value_float,
    value_text
from {{ episodes_to_build(ref('int_property_values')) }}
