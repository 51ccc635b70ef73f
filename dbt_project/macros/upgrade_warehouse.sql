{#
  on-run-start: bring a warehouse built by an earlier version of the project to the layout of
  this one, so that it upgrades in place:
  - drop relations whose materialisation changed (DuckDB cannot rename a table that a view
    depends on, which dbt does when a table model becomes a view);
  - on DuckDB, drop the indexes earlier versions created in the project's schemas (the project
    creates none there now: see indexes.sql);
  - on Postgres, give extended_properties the unique index that the model now creates to
    enforce its key (earlier versions only tested it): building it fails, naming a
    duplicate, if the table holds one.
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
        {%- do tracking.enforce_extended_properties_key() -%}
    {%- endif -%}
{%- endmacro %}

{% macro enforce_extended_properties_key() -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='marts', identifier='extended_properties') -%}
    {%- if relation is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set unique_indexes -%}
        select count(*) from pg_index where indrelid = '{{ relation }}'::regclass and indisunique
    {%- endset -%}
    {%- if run_query(unique_indexes).columns[0].values()[0] > 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set model = graph.nodes.values() | selectattr('unique_id', 'equalto', 'model.tracking.extended_properties') | first -%}
    {%- for index in model.config.indexes if index.unique -%}
        {%- do log('upgrade: enforcing the key of ' ~ relation ~ ' with a unique index on ' ~ index.columns | join(', ') ~ ' (once; ~0.5 s per million rows)', info=true) -%}
        {%- do run_query(get_create_index_sql(relation, index)) -%}
    {%- endfor -%}
{%- endmacro %}
