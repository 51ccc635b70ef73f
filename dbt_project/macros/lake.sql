{#
  Spark: the raw tables are parquet files in the lake the extract stage writes (TRACKING_LAKE,
  extract/lake.py). on-run-start registers them: `raw.lake_commits`, the runs' commits; for
  each table with current rows an external table `raw.<table>__files` over its folder
  (partitions recovered from the `<column>=<value>` folders) and the view `raw.<table>` of its
  current rows (the files of the newest committed load of each partition), which the sources
  name. No-op on the other targets, whose raw tables are tables.
#}
{% macro lake_location() -%}
    {{ return(env_var('TRACKING_SPARK_LAKE', env_var('TRACKING_LAKE', 'warehouse/lake')).rstrip('/') ~ '/raw') }}
{%- endmacro %}

{% macro register_lake() -%}
    {{ return(adapter.dispatch('register_lake', 'tracking')()) }}
{%- endmacro %}

{% macro default__register_lake() -%}
{%- endmacro %}

{% macro spark__register_lake() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set location = tracking.lake_location() -%}
    {%- do run_query('create schema if not exists raw') -%}
    {%- do run_query('drop table if exists raw.lake_commits') -%}
    {%- do run_query(
        "create table raw.lake_commits (table_name string, partition_value bigint, load_seq bigint, deleted boolean) "
        ~ "using parquet location '" ~ location ~ "/_lake_commits'") -%}
    {%- do run_query(
        'create or replace view raw.lake_current as select table_name, partition_value, load_seq '
        ~ 'from (select table_name, partition_value, load_seq, deleted, row_number() over '
        ~ '(partition by table_name, partition_value order by load_seq desc) as newest '
        ~ 'from raw.lake_commits) as commits where newest = 1 and not deleted') -%}
    {%- set tables = run_query('select distinct table_name from raw.lake_current order by 1').columns[0].values() -%}
    {%- for table in tables -%}
        {%- set files = 'raw.' ~ table ~ '__files' -%}
        {%- do run_query('drop view if exists raw.' ~ table) -%}
        {%- do run_query('drop table if exists ' ~ files) -%}
        {%- do run_query(
            "create table " ~ files ~ " using parquet options (mergeSchema 'true') location '"
            ~ location ~ "/" ~ table ~ "'") -%}
        {%- do run_query('alter table ' ~ files ~ ' recover partitions') -%}
        {%- set relation = api.Relation.create(schema='raw', identifier=table ~ '__files') -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | reject('equalto', '_load_seq') | list -%}
        {%- set partition_column = columns | last -%}
        {%- do run_query(
            'create view raw.' ~ table ~ ' as select '
            ~ columns | join(', ')
            ~ ' from ' ~ files ~ ' as f where exists (select 1 from raw.lake_current as c '
            ~ "where c.table_name = '" ~ table ~ "' and c.partition_value = f." ~ partition_column
            ~ ' and c.load_seq = f._load_seq)') -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
