{#
  DuckDB: an incremental model builds its episodes in batches of var `duckdb_batch_episodes`,
  so that a build's memory follows the batch, not the warehouse. Some operators keep all of a
  statement's groups in memory and cannot spill (the percentiles of pairwise_frame_stats:
  1.1 GB for 10 episodes); batches keep a build within TRACKING_DUCKDB_MEMORY_LIMIT whatever
  the number of episodes (docs/benchmarks.md, "Memory").

  The pre-hook plan_episode_batches() numbers the episodes to build (an incremental run: those
  episodes_to_build() selects; a full build: every landed episode) into batches and makes the
  first one current; the model's statement reads its inputs through episodes_to_build(), which
  on DuckDB keeps the current batch. The post-hook build_episode_batches() then makes each
  further batch current in turn and runs the model's compiled SQL again for it: the batch's
  rows deleted, then inserted. Postgres spills every operator itself and builds in one
  statement.
#}

{% macro batches_episodes() -%}
    {{ return(
        target.type == 'duckdb'
        and model.resource_type == 'model'
        and model.config.materialized == 'incremental'
    ) }}
{%- endmacro %}

{% macro episode_batches_relation(name) -%}
    {{ return(api.Relation.create(database=target.database, schema='intermediate', identifier=name)) }}
{%- endmacro %}

{#- The episode ids of the batch the model builds now. -#}
{% macro current_batch_ids() -%}
    select episode_id from {{ tracking.episode_batches_relation('build_batch') }}
{%- endmacro %}

{#- Pre-hook of every model (no-op unless batches_episodes()). -#}
{% macro plan_episode_batches() -%}
    {%- if not tracking.batches_episodes() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set size = var('duckdb_batch_episodes') | int -%}
    {%- if size < 1 -%}
        {{ exceptions.raise_compiler_error("var duckdb_batch_episodes must be at least 1, not " ~ size) }}
    {%- endif -%}
    create or replace table {{ tracking.episode_batches_relation('build_batches') }} as
    select episode_id, (row_number() over (order by episode_id) - 1) // {{ size }} as batch
    from (
        {%- if is_incremental() %}
        {{ tracking.episode_ids_to_build() }}
        {%- else %}
        select episode_id from {{ tracking.build_episode_loads_relation() }}
        {%- endif %}
    ) as episodes;
    create or replace table {{ tracking.episode_batches_relation('build_batch') }} as
    select episode_id from {{ tracking.episode_batches_relation('build_batches') }}
    where batch = 0;
{%- endmacro %}

{#- Post-hook of every model (no-op unless batches_episodes()), before
    record_built_episodes(): the batches after the first. -#}
{% macro build_episode_batches() -%}
    {%- if not tracking.batches_episodes() or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set batches = tracking.episode_batches_relation('build_batches') -%}
    {%- set current = tracking.episode_batches_relation('build_batch') -%}
    {%- set last = run_query('select coalesce(max(batch), 0) from ' ~ batches).columns[0].values()[0] | int -%}
    {%- for batch in range(1, last + 1) %}
    delete from {{ current }};
    insert into {{ current }} select episode_id from {{ batches }} where batch = {{ batch }};
    delete from {{ this }} where episode_id in ({{ tracking.current_batch_ids() }});
    insert into {{ this }} {{ model.compiled_code }};
    {%- endfor %}
    drop table {{ batches }};
    drop table {{ current }};
{%- endmacro %}
