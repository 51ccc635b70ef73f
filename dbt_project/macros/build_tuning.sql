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

{#
  Pre-hook of every model: on Postgres, the sort and hash memory of the transaction that builds
  it (var `postgres_work_mem`, default 256MB; `set local` ends with the transaction). With the
  server default of 4MB the window sorts and the per-agent aggregation of pairwise_frame_stats
  spill to disk (docs/benchmarks.md). DuckDB manages its memory
  itself.
#}
{% macro tune_transaction() -%}
    {{ return(adapter.dispatch('tune_transaction', 'tracking')()) }}
{%- endmacro %}

{% macro default__tune_transaction() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        set local work_mem = '{{ var("postgres_work_mem") }}'
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__tune_transaction() -%}
{%- endmacro %}

{#
  Pre-hook of int_agent_pair_correlations: on Postgres, no explicit sorts where the planner
  has another way (`enable_sort` off for the model's transaction). It expects about as many
  (episode, agent pair) groups as pair-frames where there are a few thousand, and so sorts
  every pair-frame for a group aggregate instead of hashing them (docs/benchmarks.md). The
  window functions still sort (they have no alternative); the result is the same.
#}
{% macro prefer_hash_aggregation() -%}
    {{ return(adapter.dispatch('prefer_hash_aggregation', 'tracking')()) }}
{%- endmacro %}

{% macro default__prefer_hash_aggregation() -%}
    set local enable_sort = off
{%- endmacro %}

{% macro duckdb__prefer_hash_aggregation() -%}
{%- endmacro %}

{# Spark: its statistics and memory are the cluster's; a parquet table has no indexes. #}
{% macro spark__analyze_table() -%}
{%- endmacro %}

{% macro spark__tune_transaction() -%}
{%- endmacro %}

{% macro spark__prefer_hash_aggregation() -%}
{%- endmacro %}
