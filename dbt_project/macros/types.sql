{#
  Type names that differ between targets. `type_double()`: a 64-bit float (`double precision`
  on DuckDB and Postgres, `double` on Spark, which rejects the former; dbt.type_float() is a
  32-bit float on Spark). `sql_type(name)`: a type as the YAML declares it (sources'
  `data_type`, seeds' `column_types`: `bigint`, `varchar`, `double precision`, `boolean`), as
  the target spells it (Spark: `string` for `varchar`, which it only takes with a length).
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'tracking')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ return('double precision') }}
{%- endmacro %}

{% macro spark__type_double() -%}
    {{ return('double') }}
{%- endmacro %}

{% macro sql_type(name) -%}
    {{ return(adapter.dispatch('sql_type', 'tracking')(name)) }}
{%- endmacro %}

{% macro default__sql_type(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro spark__sql_type(name) -%}
    {{ return({'varchar': 'string', 'double precision': 'double'}.get(name | lower, name)) }}
{%- endmacro %}
