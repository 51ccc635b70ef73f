{{ config(
    indexes=[
        {'columns': ['observation_id']},
        {'columns': ['episode_id', 'property_id']},
    ]
) }}

select
    observation_id,
    episode_id,
    property_id,
    value_float,
    value_text
from {{ ref('int_property_values') }}
