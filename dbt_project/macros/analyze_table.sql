{#
  Post-hook of every model: refresh the planner statistics of a table just built, on Postgres
  (DuckDB keeps its statistics itself). Without them the planner sees a freshly filled
  13-million-row table as empty and picks nested loops for the models and tests that read it.
#}
{% macro analyze_table() -%}
    {{ return(adapter.dispatch('analyze_table', 'tracking')()) }}
{%- endmacro %}

{% macro default__analyze_table() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__analyze_table() -%}
{%- endmacro %}
