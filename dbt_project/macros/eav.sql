{#
  Unpivot columns of a relation into EAV rows (observation_id, episode_id, property_id,
  value_float, value_text), keeping only non-null values. `float_properties` and
  `text_properties` are lists of (property_id, expression) pairs, landing in value_float and
  value_text respectively. One scan of the relation, via a lateral VALUES list, on both targets.
#}
{% macro unpivot_properties(relation, float_properties=[], text_properties=[]) -%}
    {%- set no_float = 'cast(null as double precision)' -%}
    {%- set no_text = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- set rows = [] -%}
    {%- for property_id, expression in float_properties -%}
        {%- do rows.append("('" ~ property_id ~ "', cast(" ~ expression ~ " as double precision), " ~ no_text ~ ")") -%}
    {%- endfor -%}
    {%- for property_id, expression in text_properties -%}
        {%- do rows.append("('" ~ property_id ~ "', " ~ no_float ~ ", cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "))") -%}
    {%- endfor %}
    select
        src.observation_id,
        src.episode_id,
        prop.property_id,
        prop.value_float,
        prop.value_text
    from {{ relation }} as src
    cross join lateral (
        values
        {%- for row in rows %}
            {{ row }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as prop (property_id, value_float, value_text)
    where prop.value_float is not null or prop.value_text is not null
{%- endmacro %}

{# Numeric properties only: (property_id, float expression) pairs. #}
{% macro unpivot_float_properties(relation, properties) -%}
    {{ tracking.unpivot_properties(relation, float_properties=properties) }}
{%- endmacro %}
