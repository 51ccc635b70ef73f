{#
  What a build does at its start and end (on-run-start / on-run-end in dbt_project.yml), so that
  builds and extract runs can overlap without leaving the marts stale or broken:

  - One build at a time per warehouse. On DuckDB the warehouse file's own lock does it (dbt
    holds the file for its whole run; another process opening it fails, naming dbt's pid). On
    Postgres a build registers in intermediate.running_build at its start and deregisters at
    its end; a second build started meanwhile stops with an error naming the first. A build
    that was killed leaves its row behind: the next build sees that no connection of it is
    left (dbt names its connections `dbt <invocation_id>`, profiles.yml), waits
    `stale_build_seconds` to be sure, and takes its place.
  - The build's snapshot of raw.episode_loads (intermediate.build_episode_loads), taken at
    its start: every per-episode model compares against it and records it
    (macros/incremental_by_episode.sql), never the live table, which an extract run may
    change while the build runs. What a model read is at least as new as the snapshot, so an
    episode landed during the build is rebuilt by the next build.

  Commands that write (build, run, seed, snapshot) do both; `dbt test` neither.
#}

{% macro build_episode_loads_relation() -%}
    {{ return(api.Relation.create(database=(target.database or none), schema='intermediate', identifier='build_episode_loads')) }}
{%- endmacro %}

{% macro running_build_relation() -%}
    {{ return(api.Relation.create(database=(target.database or none), schema='intermediate', identifier='running_build')) }}
{%- endmacro %}

{% macro writes_warehouse() -%}
    {{ return(flags.WHICH in ('build', 'run', 'seed', 'snapshot')) }}
{%- endmacro %}

{#- on-run-start: register the build (Postgres), then snapshot the episode loads. The
    registration runs when dbt compiles the hook: if another build runs, its error stops this
    one before any node runs (an error of the hook's SQL would not). -#}
{% macro start_build() -%}
    {%- if not execute or not tracking.writes_warehouse() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if target.type == 'spark' -%}
        {{ return(tracking.spark_snapshot_episode_loads()) }}
    {%- endif -%}
    {%- do adapter.dispatch('register_build', 'tracking')() -%}
    {%- set loads = adapter.get_relation(database=(target.database or none), schema='raw', identifier='episode_loads') -%}
    create table if not exists {{ tracking.build_episode_loads_relation() }} (
        episode_id bigint not null,
        load_seq bigint not null
    );
    delete from {{ tracking.build_episode_loads_relation() }};
    {%- if loads is not none %}
    insert into {{ tracking.build_episode_loads_relation() }} (episode_id, load_seq)
    select episode_id, load_seq from {{ loads }};
    {%- endif %}
    {#- get_relation began a transaction, which dbt rolls back after the hook -#}
    commit;
{%- endmacro %}

{#- on-run-end: deregister the build (Postgres). -#}
{% macro end_build() -%}
    {%- if not tracking.writes_warehouse() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('deregister_build', 'tracking')()) }}
{%- endmacro %}

{% macro duckdb__register_build() -%}
{%- endmacro %}

{% macro duckdb__deregister_build() -%}
{%- endmacro %}

{% macro default__register_build() -%}
    {%- set running = tracking.running_build_relation() -%}
    {%- set register -%}
    create schema if not exists intermediate;
    create table if not exists {{ running }} (
        singleton boolean primary key default true check (singleton),
        invocation_id varchar not null,
        command varchar not null,
        started_at timestamptz not null
    );
    -- the row, once per warehouse: a build started at the same time waits here until this
    -- transaction commits, then finds the row taken
    insert into {{ running }} (invocation_id, command, started_at)
    values ('{{ invocation_id }}', 'dbt {{ flags.WHICH }}', now())
    on conflict (singleton) do nothing;
    do $$
    declare
        holder record;
        taken integer;
    begin
        select * into holder from {{ running }};
        if holder.invocation_id = '{{ invocation_id }}' then
            return;
        end if;
        -- is it running? dbt opens a connection for each node: look for one a while
        for attempt in 1 .. {{ var('stale_build_seconds') * 10 }} loop
            perform pg_stat_clear_snapshot();
            if exists (
                select 1 from pg_stat_activity
                where application_name = 'dbt ' || holder.invocation_id
            ) then
                raise exception 'another % is running on this warehouse (started %, invocation %): wait for it to finish, then run this again', holder.command, date_trunc('second', holder.started_at), holder.invocation_id;
            end if;
            perform pg_sleep(0.1);
        end loop;
        -- it was killed: take its place (unless a build started meanwhile did)
        update {{ running }}
        set invocation_id = '{{ invocation_id }}', command = 'dbt {{ flags.WHICH }}', started_at = now()
        where invocation_id = holder.invocation_id;
        get diagnostics taken = row_count;
        if taken = 0 then
            raise exception 'another dbt build started on this warehouse just now: wait for it to finish, then run this again';
        end if;
        raise notice 'the % started % (invocation %) did not finish (killed?): this build takes its place', holder.command, date_trunc('second', holder.started_at), holder.invocation_id;
    end
    $$;
    commit;
    {%- endset -%}
    {%- do run_query(register) -%}
{%- endmacro %}

{% macro default__deregister_build() -%}
    delete from {{ tracking.running_build_relation() }} where invocation_id = '{{ invocation_id }}';
    commit;
{%- endmacro %}

{#- Spark: one build at a time is the metastore's (Derby, embedded: a second dbt process on the
    same metastore cannot start). The snapshot is a parquet table, made anew (no delete on
    parquet tables; a hook runs one statement at a time). -#}
{% macro spark_snapshot_episode_loads() -%}
    {%- set loads = adapter.get_relation(database=(target.database or none), schema='raw', identifier='episode_loads') -%}
    {%- set snapshot = tracking.build_episode_loads_relation() -%}
    {%- do run_query('drop table if exists ' ~ snapshot) -%}
    {%- if loads is none -%}
        {%- do run_query('create table ' ~ snapshot ~ ' (episode_id bigint, load_seq bigint) using parquet') -%}
    {%- else -%}
        {%- do run_query('create table ' ~ snapshot ~ ' using parquet as select episode_id, load_seq from ' ~ loads) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__deregister_build() -%}
{%- endmacro %}
