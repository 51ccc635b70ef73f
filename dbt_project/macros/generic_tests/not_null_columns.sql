{% test not_null_columns(model, columns) %}
{#- dbt's not_null for several columns of a model in one scan (one test node instead of one per
    column: a node's fixed cost is most of a small build). Fails with one row per column that
    holds NULLs: the column's name and how many rows. -#}
with null_counts as (
    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as null_rows_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
)

{% for column in columns -%}
select '{{ column }}' as column_name, null_rows_{{ loop.index }} as null_rows
from null_counts
where null_rows_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
{% endtest %}
