{#
  on-run-start: bring a warehouse built by an earlier version of the project to the layout of
  this one, so that it upgrades in place:
  - drop relations whose materialisation changed (DuckDB cannot rename a table that a view
    depends on, which dbt does when a table model becomes a view);
  - on DuckDB, drop the indexes earlier versions created in the project's schemas (the project
    creates none there now: see indexes.sql);
  - on Postgres, give each table the unique indexes its model now creates to enforce its keys
    (earlier versions only tested them): building one fails, naming a duplicate, if the table
    holds one; and drop the indexes they replace.
#}
{% macro upgrade_warehouse() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- (schema, identifier, the relation type it no longer has) -#}
    {%- set retired = [
        ('intermediate', 'int_computed__property_values', 'table'),
    ] -%}
    {%- for schema, identifier, type in retired -%}
        {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=identifier) -%}
        {%- if relation is not none and relation.type == type -%}
            {%- do log('upgrade: dropping ' ~ relation ~ ', a ' ~ type ~ ' of an earlier version', info=true) -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if target.type == 'duckdb' -%}
        {%- set found -%}
            select schema_name, index_name from duckdb_indexes()
            where database_name = '{{ target.database }}' and schema_name in ('intermediate', 'marts')
        {%- endset -%}
        {%- for schema, index in run_query(found).rows -%}
            {%- do log('upgrade: dropping index ' ~ schema ~ '.' ~ index, info=true) -%}
            {%- do run_query('drop index "' ~ target.database ~ '"."' ~ schema ~ '"."' ~ index ~ '"') -%}
        {%- endfor -%}
    {%- elif target.type == 'postgres' -%}
        {%- do tracking.enforce_unique_indexes() -%}
    {%- endif -%}
{%- endmacro %}

{#
  Postgres: every unique index of a model's `indexes` config exists on its table (the keys of
  extended_properties, observations and observation_properties_wide are enforced by them,
  where earlier versions only tested the keys); creating one fails, naming a duplicate, if the
  table holds one. Then drops the indexes listed as retired, which the unique ones replace.
  One catalogue query per build.
#}
{% macro enforce_unique_indexes() -%}
    {#- (schema, table, columns) of indexes earlier versions created and this one does not -#}
    {%- set retired = [
        ('marts', 'observations', 'episode_id,time_index'),
        ('marts', 'observation_properties_wide', 'episode_id,time_index'),
    ] -%}
    {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('config.indexes') | list -%}
    {%- set catalogue -%}
        select ns.nspname, tab.relname, ind.indisunique, ind.indexrelid::regclass::text,
            (select string_agg(att.attname, ',' order by key.position)
             from unnest(ind.indkey::int2[]) with ordinality as key (attnum, position)
             inner join pg_attribute as att
                on att.attrelid = ind.indrelid and att.attnum = key.attnum)
        from pg_class as tab
        inner join pg_namespace as ns on ns.oid = tab.relnamespace
        left join pg_index as ind on ind.indrelid = tab.oid
        where tab.relkind = 'r'
            and ns.nspname in ('{{ models | map(attribute='schema') | unique | join("', '") }}')
    {%- endset -%}
    {%- set existing = run_query(catalogue).rows -%}
    {%- set tables = [] -%}
    {%- set unique_indexes = [] -%}
    {%- for schema, table, unique, index, columns in existing -%}
        {%- do tables.append(schema ~ '.' ~ table) -%}
        {%- if unique -%}
            {%- do unique_indexes.append(schema ~ '.' ~ table ~ ' (' ~ columns ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in models -%}
        {%- set relation = api.Relation.create(
            database=target.database, schema=node.schema, identifier=node.alias or node.name) -%}
        {%- set table = node.schema ~ '.' ~ (node.alias or node.name) -%}
        {%- for index in node.config.indexes
            if index.unique and table in tables
            and (table ~ ' (' ~ index.columns | join(',') ~ ')') not in unique_indexes -%}
            {%- do log('upgrade: enforcing the key of ' ~ relation ~ ' with a unique index on ' ~ index.columns | join(', ') ~ ' (once; ~0.5 s per million rows)', info=true) -%}
            {%- do run_query(get_create_index_sql(relation, index)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for schema, table, unique, index, columns in existing
        if unique == false and (schema, table, columns) in retired -%}
        {%- do log('upgrade: dropping index ' ~ index ~ ' (' ~ columns ~ '), which a unique index replaces', info=true) -%}
        {%- do run_query('drop index ' ~ index) -%}
    {%- endfor -%}
{%- endmacro %}
