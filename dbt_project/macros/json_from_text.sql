{# Text holding a JSON document, as the target's JSON type (jsonb on Postgres). #}
{% macro json_from_text(column) -%}
    {{ return(adapter.dispatch('json_from_text', 'tracking')(column)) }}
{%- endmacro %}

{% macro default__json_from_text(column) -%}
    cast({{ column }} as jsonb)
{%- endmacro %}

{% macro duckdb__json_from_text(column) -%}
    cast({{ column }} as json)
{%- endmacro %}

{# Spark: a VARIANT (its JSON type; to_json(column) gives the text). #}
{% macro spark__json_from_text(column) -%}
    parse_json({{ column }})
{%- endmacro %}
