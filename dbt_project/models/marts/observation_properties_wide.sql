{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    post_hook="{{ comment_property_columns() }}",
    indexes=indexes([
        {'columns': ['observation_id'], 'unique': true},
        {'columns': ['episode_id', 'time_index', 'agent_id', 'agent_type_id'], 'unique': true},
    ])
) }}
-- depends_on: {{ ref('property_definitions') }}
{#- One row per observation, with every extended property as a column named by its
    property_id (a float property as double precision, a text one as text; NULL where the
    observation has no value), and distance_to_target. The property columns are read from
    property_definitions when the model is compiled (property_columns()), so a new definition
    is a new column on the next build: appended to the table
    (on_schema_change='append_new_columns'), NULL for the episodes built before.

    The values are taken from the same expressions as extended_properties (each family's
    frames with the columns of source_families(), and int_computed__kinematics) rather than by
    pivoting its rows: one row per observation is read instead of one per value. A column no
    family measures is NULL. -#}
{%- set base_columns = observation_columns() %}
{%- set properties = property_columns() %}
{%- for property in properties if property['property_id'] | lower in base_columns + ['distance_to_target'] %}
    {{ exceptions.raise_compiler_error(
        "property id " ~ property['property_id'] ~ " collides with a column of the wide model") }}
{%- endfor %}
{%- set computed = computed_properties() %}

with family_rows as (
    {%- for family in source_families() %}
    {%- set expressions = {} %}
    {%- for kind, pairs in family_properties(family).items() %}
        {%- for property_id, expression in pairs %}
            {%- do expressions.update({property_id: expression}) %}
        {%- endfor %}
    {%- endfor %}
    select
        {{ base_columns | join(', ') }}
        {%- for property in properties if property['property_id'] not in computed %}
        {%- set type = dbt.type_string() if property['data_type'] == 'text' else tracking.type_double() %},
        cast({{ expressions.get(property['property_id'], 'null') }} as {{ type }})
            as {{ adapter.quote(property['property_id']) }}
        {%- endfor %}
    from {{ episodes_to_build(ref('int_' ~ family ~ '__frames')) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

kinematics as (
    select observation_id, {{ computed | join(', ') }}
    from {{ episodes_to_build(ref('int_computed__kinematics')) }}
)

select
    {%- for column in base_columns %}
    family_rows.{{ column }},
    {%- endfor %}
    {%- for property in properties %}
    {%- set id = property['property_id'] %}
    {%- if id in computed %}
    {%- set type = dbt.type_string() if property['data_type'] == 'text' else tracking.type_double() %}
    cast(kinematics.{{ id }} as {{ type }}) as {{ adapter.quote(id) }},
    {%- else %}
    family_rows.{{ adapter.quote(id) }},
    {%- endif %}
    {%- endfor %}
    {{ nearest_target_distance('family_rows', target_distance_columns(properties)) }} as distance_to_target
from family_rows
left join kinematics on kinematics.observation_id = family_rows.observation_id
