{#
  Unpivot columns of a relation into EAV rows (observation_id, episode_id, property_id,
  value_float, value_text), keeping only non-null values. `properties` is a list of
  (property_id, float expression) pairs. One scan of the relation, via a lateral VALUES list,
  on both targets.
#}
{% macro unpivot_float_properties(relation, properties) -%}
    select
        src.observation_id,
        src.episode_id,
        prop.property_id,
        prop.value_float,
        cast(null as {{ dbt.type_string() }}) as value_text
    from {{ relation }} as src
    cross join lateral (
        values
        {%- for property_id, expression in properties %}
            ('{{ property_id }}', cast({{ expression }} as double precision)){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as prop (property_id, value_float)
    where prop.value_float is not null
{%- endmacro %}
