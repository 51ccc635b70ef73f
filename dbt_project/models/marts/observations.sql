{{ config(
    materialized='incremental',
    indexes=indexes([
        {'columns': ['observation_id'], 'unique': true},
        {'columns': ['episode_id', 'time_index', 'agent_id', 'agent_type_id'], 'unique': true},
    ])
) }}

-- the columns of int_observations: observation_columns() (macros/source_families.sql)
select *
from {{ episodes_to_build(ref('int_observations')) }}
