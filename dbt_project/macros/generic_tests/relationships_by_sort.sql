{% test relationships_by_sort(model, column_name, to, field) %}
{#- dbt's relationships test (every non-NULL `column_name` of the model is a `field` of `to`),
    failing with one row per missing key and its count of child rows (a second scan of the
    child, for just those keys). On DuckDB the missing keys are found by a sort, for children
    and parents of tens of millions of rows: the parent keys and the child keys in one column,
    ordered by (key, side) with the parents first; a child row whose key differs from the row
    before it has no parent. A sort spills its runs to disk within the memory limit, where
    DuckDB's hash table of every parent key held the build's memory furthest above it
    (docs/benchmarks.md, "Memory"). -#}
select {{ column_name }}, count(*) as child_rows
from {{ model }}
where {{ column_name }} in (
    {{- adapter.dispatch('missing_parent_keys', 'tracking')(model, column_name, to, field) }}
)
group by {{ column_name }}
{% endtest %}

{% macro duckdb__missing_parent_keys(model, column_name, to, field) -%}
    with keyed as (
        select {{ field }} as key_value, 0 as side from {{ to }} where {{ field }} is not null
        union all
        select {{ column_name }}, 1 from {{ model }} where {{ column_name }} is not null
    ),

    compared as (
        select key_value, side, lag(key_value) over (order by key_value, side) as previous_key
        from keyed
    )

    select key_value from compared where side = 1 and previous_key is distinct from key_value
{%- endmacro %}

{#- Postgres and Spark: an anti-join, as dbt's relationships test. Their hash joins spill
    (Spark's spread over the cluster, where a window without a partition would move every row
    into one task), and Postgres probes the parent's unique index for the few child rows of an
    incremental build rather than sorting every parent key. -#}
{% macro default__missing_parent_keys(model, column_name, to, field) -%}
    select child_key
    from (select {{ column_name }} as child_key from {{ model }}) as child
    where child_key is not null and not exists (
        select 1 from {{ to }} as parent where parent.{{ field }} = child.child_key
    )
{%- endmacro %}
