{#
  on-run-start: bring a warehouse built by an earlier version of the project to the layout of
  this one, so that it upgrades in place:
  - drop relations whose materialisation changed (DuckDB cannot rename a table that a view
    depends on, which dbt does when a table model becomes a view);
  - on DuckDB, drop the indexes earlier versions created in the project's schemas (the project
    creates none there now: see indexes.sql);
  - on Postgres, give extended_properties the unique index on its key that the model now
    creates (earlier versions indexed (episode_id, property_id) without enforcing the key):
    building it fails, naming a duplicate, if the table holds one.
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
    {%- set indexes -%}
        select index_class.relname, index.indisunique
        from pg_index as index
        inner join pg_class as index_class on index_class.oid = index.indexrelid
        where index.indrelid = '{{ relation }}'::regclass
    {%- endset -%}
    {%- set found = run_query(indexes).rows -%}
    {%- for name, unique in found if unique -%}
        {{ return('') }}
    {%- endfor -%}
    {%- do log('upgrade: enforcing the key of ' ~ relation ~ ' with a unique index (once; ~1 s per million rows)', info=true) -%}
    {%- set statements = [] -%}
    {%- for name, unique in found -%}
        {%- do statements.append('drop index ' ~ relation.schema ~ '.' ~ adapter.quote(name)) -%}
    {%- endfor -%}
    {%- do statements.append('create unique index on ' ~ relation ~ ' (episode_id, property_id, observation_id)') -%}
    {%- do run_query(statements | join(';\n')) -%}
{%- endmacro %}
