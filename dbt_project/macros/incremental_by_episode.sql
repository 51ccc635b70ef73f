{#
  Per-episode incremental builds.

  A model with `materialized='incremental'` is built per episode: the folder config in
  dbt_project.yml gives it delete+insert on `episode_id` and the post-hook
  record_built_episodes(), and the model reads its inputs through
  `from {{ episodes_to_build(ref('...')) }}`, which in an incremental run keeps only the episodes
  to rebuild. An episode is rebuilt when the extract run that last landed it, or marked it for
  rebuild because its session changed (raw.episode_loads.load_seq, as the build's snapshot of
  it holds it: macros/build_start.sql), differs from the one the model last built;
  delete+insert then replaces exactly that episode's rows. The rows of an episode no longer
  landed are deleted (delete_removed_episodes()). The state lives in
  intermediate.incremental_state, one row per (model, episode), and only advances after the
  model was built successfully: a failed build is simply redone by the next one. It records
  the snapshot, taken before the model read anything: an episode an extract run landed
  meanwhile differs from it, and is rebuilt by the next build.
#}

{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(database=(target.database or none), schema='intermediate', identifier='incremental_state')) }}
{%- endmacro %}

{% macro create_incremental_state() -%}
    {{ return(adapter.dispatch('create_incremental_state', 'tracking')()) }}
{%- endmacro %}

{% macro default__create_incremental_state() -%}
    create schema if not exists intermediate;
    create table if not exists {{ tracking.incremental_state_relation() }} (
        model_name {{ dbt.type_string() }} not null,
        episode_id bigint not null,
        load_seq bigint not null,
        invocation_id {{ dbt.type_string() }} not null
    );
{%- endmacro %}

{#- Postgres: the state is UNLOGGED whenever a table it describes may be (the models' `unlogged`
    config: TRACKING_POSTGRES_UNLOGGED in dbt_project.yml; or an unlogged table left in
    intermediate or marts by a build with it on): after a crash the server empties the state
    with those tables, so the next build rebuilds every episode. A logged state beside emptied
    tables would say their episodes are built. -#}
{% macro postgres__create_incremental_state() -%}
    {%- set state = tracking.incremental_state_relation() -%}
    {{ tracking.default__create_incremental_state() }}
    do $$
    declare
        unlogged boolean := {{ 'false' if env_var('TRACKING_POSTGRES_UNLOGGED', 'true') == 'false' else 'true' }} or exists (
            select 1
            from pg_class as c
            inner join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname in ('intermediate', 'marts')
                and c.relkind = 'r'
                and c.relpersistence = 'u'
                and c.oid <> '{{ state }}'::regclass
        );
        persistence "char" := (select relpersistence from pg_class where oid = '{{ state }}'::regclass);
    begin
        if unlogged and persistence = 'p' then
            alter table {{ state }} set unlogged;
        elsif not unlogged and persistence = 'u' then
            alter table {{ state }} set logged;
        end if;
    end
    $$;
{%- endmacro %}

{#- `relation as alias` (alias: the relation's name unless given) for a from clause, in an
    incremental run restricted to the episodes the calling model rebuilds; on DuckDB to the
    batch of them it builds now (macros/episode_batches.sql). -#}
{% macro episodes_to_build(relation, alias=none) -%}
    {%- if tracking.batches_episodes() -%}
        (select * from {{ relation }} where episode_id in ({{ tracking.current_batch_ids() }}))
    {%- elif is_incremental() -%}
        (select * from {{ relation }} where episode_id in ({{ tracking.episode_ids_to_build() }}))
    {%- else -%}
        {{ relation }}
    {%- endif %} as {{ alias or relation.identifier }}
{%- endmacro %}

{#- The ids of the episodes whose landed load (in the build's snapshot) differs from the one
    this model last built. -#}
{% macro episode_ids_to_build() -%}
    select loads.episode_id
    from {{ tracking.build_episode_loads_relation() }} as loads
    left join {{ tracking.incremental_state_rows(this.identifier) }} as state
        on state.episode_id = loads.episode_id
    where state.load_seq is null or state.load_seq <> loads.load_seq
{%- endmacro %}

{#- Post-hook of every model (no-op unless an incremental run of an incremental model), before
    record_built_episodes(): delete the rows of the episodes this model built that are no
    longer landed (removed from raw: `python extract/run.py remove` / `sync`, or a file landed
    again without them), and forget that it built them. The model's state lists the episodes
    it holds, so this reads the state, not the table. -#}
{% macro delete_removed_episodes() -%}
    {%- if model.config.materialized != 'incremental' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('delete_removed_episodes', 'tracking')()) }}
{%- endmacro %}

{% macro default__delete_removed_episodes() -%}
    {%- set state = tracking.incremental_state_relation() -%}
    {%- set removed -%}
        select state.episode_id
        from {{ state }} as state
        where state.model_name = '{{ this.identifier }}'
            and not exists (
                select 1 from {{ tracking.build_episode_loads_relation() }} as loads
                where loads.episode_id = state.episode_id
            )
    {%- endset %}
    delete from {{ this }} where episode_id in ({{ removed }});
    delete from {{ state }}
    where model_name = '{{ this.identifier }}' and episode_id in ({{ removed }});
{%- endmacro %}

{#- Post-hook of every model (no-op unless incremental): record the episodes just built. -#}
{% macro record_built_episodes() -%}
    {%- if model.config.materialized != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('record_built_episodes', 'tracking')()) }}
{%- endmacro %}

{% macro default__record_built_episodes() -%}
    {%- set state = tracking.incremental_state_relation() -%}
    {%- if is_incremental() %}
    delete from {{ state }}
    where model_name = '{{ this.identifier }}'
        and episode_id in ({{ tracking.episode_ids_to_build() }});
    {%- else %}
    delete from {{ state }} where model_name = '{{ this.identifier }}';
    {%- endif %}
    insert into {{ state }} (model_name, episode_id, load_seq, invocation_id)
    select '{{ this.identifier }}', loads.episode_id, loads.load_seq, '{{ invocation_id }}'
    from {{ tracking.build_episode_loads_relation() }} as loads
    where not exists (
        select 1 from {{ state }} as state
        where state.model_name = '{{ this.identifier }}' and state.episode_id = loads.episode_id
    );
{%- endmacro %}

{#
  Data tests of the large per-episode marts check, during `dbt build`, only the episodes that
  build just (re)built (their YAML says `where: "__built_in_this_run__"`), so that adding one
  episode costs in proportion to that episode. `dbt test` checks every row.
  (dbt's documented hook for runtime `where` filters: overriding get_where_subquery.)
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if '__built_in_this_run__' in where -%}
        {%- set where = where | replace('__built_in_this_run__', tracking.built_in_this_run(relation)) -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}

{% macro built_in_this_run(relation) -%}
    {#- The episode ids as literals, not a subquery: the Postgres planner then estimates the
        filtered rows from the table's statistics instead of guessing a handful (and choosing
        one index probe per row for a relationships test over millions of rows). No filter
        when this run built every episode the table holds (its state lists each episode of the
        table, from the run that last built it): a full build tests each row without
        matching it against the list. -#}
    {%- if flags.WHICH != 'build' or not execute -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set state -%}
        select episode_id, invocation_id = '{{ invocation_id }}' as built_now
        from {{ tracking.incremental_state_rows(relation.identifier) }} as state
        order by episode_id
    {%- endset -%}
    {%- set episodes = run_query(state).rows -%}
    {%- set ids = [] -%}
    {%- for episode_id, built_now in episodes if built_now -%}
        {%- do ids.append(episode_id) -%}
    {%- endfor -%}
    {%- if not ids -%}
        {{ return('1 = 0') }}
    {%- elif ids | length == episodes | length -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {{ return('episode_id in (' ~ ids | join(', ') ~ ')') }}
{%- endmacro %}

{#- The state of one model, (episode_id, load_seq, invocation_id) per episode it holds, as a
    subquery. -#}
{% macro incremental_state_rows(model_name) -%}
    {{ return(adapter.dispatch('incremental_state_rows', 'tracking')(model_name)) }}
{%- endmacro %}

{% macro default__incremental_state_rows(model_name) -%}
    (select episode_id, load_seq, invocation_id
     from {{ tracking.incremental_state_relation() }}
     where model_name = '{{ model_name }}')
{%- endmacro %}

{#
  Spark: parquet tables take no delete, so the state is a log: a model's rows are appended
  (`recorded_at`, microseconds), its state is the newest row of each episode, and a forgotten
  episode's newest row has load_seq -1. A removed episode's rows leave a mart by dropping its
  partition (the marts are partitioned by episode_id). Hooks run one statement each.
#}
{% macro spark__create_incremental_state() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists intermediate') -%}
        {%- do run_query(
            'create table if not exists ' ~ tracking.incremental_state_relation()
            ~ ' (model_name string, episode_id bigint, load_seq bigint, invocation_id string,'
            ~ ' recorded_at bigint) using parquet') -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__incremental_state_rows(model_name) -%}
    (select episode_id, load_seq, invocation_id
     from (
         select episode_id, load_seq, invocation_id,
             row_number() over (partition by episode_id order by recorded_at desc) as newest
         from {{ tracking.incremental_state_relation() }}
         where model_name = '{{ model_name }}'
     ) as log
     where newest = 1 and load_seq >= 0)
{%- endmacro %}

{% macro spark__delete_removed_episodes() -%}
    {%- set removed -%}
        select state.episode_id
        from {{ tracking.incremental_state_rows(this.identifier) }} as state
        where not exists (
            select 1 from {{ tracking.build_episode_loads_relation() }} as loads
            where loads.episode_id = state.episode_id
        )
    {%- endset -%}
    {%- set ids = run_query(removed).columns[0].values() -%}
    {%- if ids -%}
        {%- set partitions = [] -%}
        {%- for episode_id in ids -%}
            {%- do partitions.append('partition (episode_id = ' ~ episode_id ~ ')') -%}
        {%- endfor -%}
        {%- do run_query('alter table ' ~ this ~ ' drop if exists ' ~ partitions | join(', ')) -%}
        {%- do run_query(
            'insert into ' ~ tracking.incremental_state_relation()
            ~ " select '" ~ this.identifier ~ "', episode_id, -1, '" ~ invocation_id
            ~ "', unix_micros(current_timestamp()) from (" ~ removed ~ ') as removed') -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__record_built_episodes() -%}
    insert into {{ tracking.incremental_state_relation() }}
    select '{{ this.identifier }}', loads.episode_id, loads.load_seq, '{{ invocation_id }}',
        unix_micros(current_timestamp())
    from {{ tracking.build_episode_loads_relation() }} as loads
    where not exists (
        select 1 from {{ tracking.incremental_state_rows(this.identifier) }} as state
        where state.episode_id = loads.episode_id and state.load_seq = loads.load_seq
    )
{%- endmacro %}

{#- Spark: the partitioned-by of dbt-spark's create table, for the per-episode (incremental)
    models only: `partition_by` (episode_id, dbt_project.yml) would fail the tables without
    the column. -#}
{% macro partition_cols(label, required=false) -%}
    {%- set cols = config.get('partition_by', validator=validation.any[list, basestring]) -%}
    {%- if cols is not none and config.get('materialized') == 'incremental' -%}
        {%- if cols is string -%}
            {%- set cols = [cols] -%}
        {%- endif -%}
        {{ label }} ({{ cols | join(', ') }})
    {%- endif -%}
{%- endmacro %}
