{% test unique_by_sort(model, columns) %}
{#- unique_combination_of_columns found by a sort instead of a grouping, for NOT NULL keys of
    hundreds of millions of rows: with the rows ordered by `columns`, a repeated combination is
    a row equal to the one before it. A sort spills its runs to disk within the memory limit,
    where DuckDB's grouping of every distinct key ran out of memory (docs/benchmarks.md,
    "Memory"). Fails with one row per repeated combination and its occurrences, as
    unique_combination_of_columns does; NULLs never compare equal (check them with
    not_null_columns). -#}
{{ return(adapter.dispatch('test_unique_by_sort', 'tracking')(model, columns)) }}
{% endtest %}

{% macro default__test_unique_by_sort(model, columns) -%}
with compared as (
    select
        {{ columns | join(', ') }},
        {%- for column in columns %}
        lag({{ column }}) over by_key = {{ column }}{% if not loop.last %} and{% endif %}
        {%- endfor %} as repeats_previous
    from {{ model }}
    window by_key as (order by {{ columns | join(', ') }})
)

select {{ columns | join(', ') }}, count(*) + 1 as occurrences
from compared
where repeats_previous
group by {{ columns | join(', ') }}
{%- endmacro %}

{#- Spark: a window without a partition moves every row into one task, where Spark's grouping
    spills and is spread over the cluster. -#}
{% macro spark__test_unique_by_sort(model, columns) -%}
{{ return(test_unique_combination_of_columns(model, columns)) }}
{%- endmacro %}
