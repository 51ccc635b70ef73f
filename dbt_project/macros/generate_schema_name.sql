{#
  Custom schemas are used verbatim: the marts live in schema `marts` on every target, not in
  `<target schema>_marts` as dbt's default naming would make it.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
