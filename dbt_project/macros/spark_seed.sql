{#
  Spark (session mode): dbt-spark puts a seed's values into its insert statements unquoted
  (`cast(%s as ...)` filled by Python's % formatting), which breaks on text with a quote. This
  writes each value as a Spark SQL literal instead: text quoted, with backslashes and quotes
  escaped by a backslash; empty cells NULL.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set rows = [] -%}
    {%- for row in agate_table.rows -%}
        {%- set values = [] -%}
        {%- for value in row -%}
            {%- set col_name = agate_table.column_names[loop.index0] -%}
            {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
            {%- if value is none -%}
                {%- do values.append('cast(null as ' ~ type ~ ')') -%}
            {%- else -%}
                {%- set text = (value | string) | replace('\\', '\\\\') | replace("'", "\\'") -%}
                {%- do values.append("cast('" ~ text ~ "' as " ~ type ~ ")") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- set sql = 'insert into ' ~ this.render() ~ ' values ' ~ rows | join(', ') -%}
    {%- if rows -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- endif -%}
    {{ return(sql) }}
{% endmacro %}
