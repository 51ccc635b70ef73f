{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='episode_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ record_built_episodes() }}", "{{ comment_property_columns() }}"],
    indexes=indexes([
        {'columns': ['observation_id'], 'unique': true},
        {'columns': ['episode_id', 'time_index', 'agent_id', 'agent_type_id'], 'unique': true},
    ])
) }}
-- depends_on: {{ ref('property_definitions') }}
{#- One row per observation, with every extended property as a column named by its
    property_id (a float property as double precision, a text one as text; NULL where the
    observation has no value). The property columns are read from property_definitions when
    the model is compiled (property_columns()), so a new definition is a new column on the
    next build: appended to the table (on_schema_change='append_new_columns'), NULL for the
    episodes built before.

    The values are taken from the same expressions as extended_properties
    (family_properties(): each family's frames, and int_computed__kinematics) rather than by
    pivoting its rows: one row per observation is read instead of one per value. A column no
    family measures is NULL. -#}
{%- set base_columns = [
    'observation_id', 'episode_id', 'time_index', 'agent_id', 'agent_type_id',
    'x', 'y', 'z', 'v_x', 'v_y', 'v_z'] %}
{%- set properties = property_columns() %}
{%- for property in properties if property['property_id'] | lower in base_columns %}
    {{ exceptions.raise_compiler_error(
        "property id " ~ property['property_id'] ~ " collides with a column of observations") }}
{%- endfor %}
{%- set families = [
    ('boids_3d', ref('int_boids_3d__frames')),
    ('tracking_csv', ref('int_tracking_csv__frames')),
    ('boids_2d', ref('int_boids_2d__frames')),
] %}
{%- set computed = {} %}
{%- for property_id, expression in family_properties('computed')['float'] %}
    {%- do computed.update({property_id: expression}) %}
{%- endfor %}

with family_rows as (
    {%- for family, relation in families %}
    {%- set expressions = {} %}
    {%- for kind in ['float', 'text'] %}
        {%- for property_id, expression in family_properties(family)[kind] %}
            {%- do expressions.update({property_id: expression}) %}
        {%- endfor %}
    {%- endfor %}
    select
        {{ base_columns | join(', ') }}
        {%- for property in properties if property['property_id'] not in computed %}
        {%- set type = dbt.type_string() if property['data_type'] == 'text' else 'double precision' %},
        cast({{ expressions.get(property['property_id'], 'null') }} as {{ type }})
            as {{ adapter.quote(property['property_id']) }}
        {%- endfor %}
    from {{ relation }}
    {%- if is_incremental() %}
    where episode_id in ({{ episodes_to_build() }})
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

kinematics as (
    select observation_id, {{ computed.values() | join(', ') }}
    from {{ ref('int_computed__kinematics') }}
    {%- if is_incremental() %}
    where episode_id in ({{ episodes_to_build() }})
    {%- endif %}
)

select
    {%- for column in base_columns %}
    family_rows.{{ column }}{% if properties or not loop.last %},{% endif %}
    {%- endfor %}
    {%- for property in properties %}
    {%- set id = property['property_id'] %}
    {%- if id in computed %}
    {%- set type = dbt.type_string() if property['data_type'] == 'text' else 'double precision' %}
    cast(kinematics.{{ computed[id] }} as {{ type }}) as {{ adapter.quote(id) }}
    {%- else %}
    family_rows.{{ adapter.quote(id) }}
    {%- endif %}{% if not loop.last %},{% endif %}
    {%- endfor %}
from family_rows
left join kinematics on kinematics.observation_id = family_rows.observation_id
