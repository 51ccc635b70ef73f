{#
  The `indexes` config of a model: the given indexes on Postgres, where they serve the access
  paths (by episode, episode + frame, property; observation_id lookups). None on DuckDB: its
  min/max zone maps already prune the episode-ordered inserts, and its ART indexes would only
  add to every write and commit (docs/benchmarks.md).
#}
{% macro indexes(definitions) -%}
    {{ return(adapter.dispatch('indexes', 'tracking')(definitions)) }}
{%- endmacro %}

{% macro default__indexes(definitions) -%}
    {{ return(definitions) }}
{%- endmacro %}

{% macro duckdb__indexes(definitions) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro spark__indexes(definitions) -%}
    {{ return([]) }}
{%- endmacro %}
