{# A JSON object from (key, expression) pairs, as the target's JSON type. #}
{% macro json_object(pairs) -%}
    {{ return(adapter.dispatch('json_object', 'tracking')(pairs)) }}
{%- endmacro %}

{% macro json_object_args(pairs) -%}
    {%- for key, expression in pairs -%}
        '{{ key }}', {{ expression }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{% macro default__json_object(pairs) -%}
    jsonb_build_object({{ tracking.json_object_args(pairs) }})
{%- endmacro %}

{% macro duckdb__json_object(pairs) -%}
    json_object({{ tracking.json_object_args(pairs) }})
{%- endmacro %}

{# Spark: a struct written as JSON, keeping NULL members as the other targets do. #}
{% macro spark__json_object(pairs) -%}
    parse_json(to_json(named_struct({{ tracking.json_object_args(pairs) }}), map('ignoreNullFields', 'false')))
{%- endmacro %}
