{{ config(
    materialized='incremental',
    indexes=indexes([
        {'columns': ['episode_id', 'property_key', 'observation_id'], 'unique': true},
    ])
) }}
{#- Postgres: one index, on integers only (property_key: macros/eav.sql). It enforces the
    table's key while writing: an observation belongs to one episode (the foreign key tested
    in _marts.yml) and a key to one property id (property_definitions), so it enforces
    (observation_id, property_id). And it serves the reads of a property over an episode
    by its key (the explore dashboard's property list) as one range of the index. -#}

select
    observation_id,
    episode_id,
    property_id,
    property_key,
    value_float,
    value_text
from {{ episodes_to_build(ref('int_property_values')) }}
