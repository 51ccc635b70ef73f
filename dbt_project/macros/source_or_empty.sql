{#
  The relation of a source table, or, when the extract stage has not landed anything of that
  family yet, an empty relation with the columns and data types declared in the source's
  YAML. Staging models select `from {{ source_or_empty('family', 'table') }} as src`, so the
  project builds with any subset of the source families loaded. A table landed before a
  column was added to the family (dlt adds it on the next landing) gets that column as NULL.
#}
{% macro source_or_empty(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | first -%}
    {%- set landed = [] -%}
    {%- if tracking.relation_exists(relation) -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do landed.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() if column.name | lower not in landed -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                "source " ~ source_name ~ "." ~ table_name ~ " column " ~ column.name
                ~ " needs a data_type in its YAML") }}
        {%- endif -%}
        {%- do columns.append('cast(null as ' ~ tracking.sql_type(column.data_type) ~ ') as ' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- if not landed -%}
        {{ return('(select ' ~ columns | join(', ') ~ ' where 1 = 0)') }}
    {%- elif columns -%}
        {{ return('(select *, ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ')') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{% macro relation_exists(relation) -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {{ return(found is not none) }}
{%- endmacro %}
