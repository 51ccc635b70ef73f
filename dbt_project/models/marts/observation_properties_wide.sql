{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='episode_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ record_built_episodes() }}", "{{ comment_property_columns() }}"],
    indexes=[
        {'columns': ['observation_id'], 'unique': true},
        {'columns': ['episode_id', 'time_index']},
    ]
) }}
-- depends_on: {{ ref('property_definitions') }}
-- depends_on: {{ ref('extended_properties') }}
{#- One row per observation, with every extended property as a column named by its
    property_id (value_float or value_text by its data_type; NULL where the observation has no
    value). The property columns are read from property_definitions when the model is compiled
    (property_columns()), so a new definition is a new column on the next build: appended to
    the table (on_schema_change='append_new_columns'), NULL for the episodes built before. -#}
{%- set base_columns = [
    'observation_id', 'episode_id', 'time_index', 'agent_id', 'agent_type_id',
    'x', 'y', 'z', 'v_x', 'v_y', 'v_z'] %}
{%- set properties = property_columns() %}
{%- for property in properties if property['property_id'] | lower in base_columns %}
    {{ exceptions.raise_compiler_error(
        "property id " ~ property['property_id'] ~ " collides with a column of observations") }}
{%- endfor %}

with observations as (
    select {{ base_columns | join(', ') }}
    from {{ ref('observations') }}
    {% if is_incremental() %}
    where episode_id in ({{ episodes_to_build() }})
    {% endif %}
)
{%- if properties %},

property_values as (
    select
        observation_id,
        {%- for property in properties %}
        {%- set value = 'value_text' if property['data_type'] == 'text' else 'value_float' %}
        max(case when property_id = '{{ property['property_id'] }}' then {{ value }} end)
            as {{ adapter.quote(property['property_id']) }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('extended_properties') }}
    {% if is_incremental() %}
    where episode_id in ({{ episodes_to_build() }})
    {% endif %}
    group by observation_id
)
{%- endif %}

select
    {%- for column in base_columns %}
    observations.{{ column }}{% if properties or not loop.last %},{% endif %}
    {%- endfor %}
    {%- for property in properties %}
    {%- set type = dbt.type_string() if property['data_type'] == 'text' else 'double precision' %}
    cast(property_values.{{ adapter.quote(property['property_id']) }} as {{ type }})
        as {{ adapter.quote(property['property_id']) }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from observations
{%- if properties %}
left join property_values on property_values.observation_id = observations.observation_id
{%- endif %}
