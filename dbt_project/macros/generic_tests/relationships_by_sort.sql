{% test relationships_by_sort(model, column_name, to, field) %}
{#- dbt's relationships test (every non-NULL `column_name` of the model is a `field` of `to`)
    found by a sort instead of a hash join, for children and parents of tens of millions of
    rows: the parent keys and the child keys in one column, ordered by (key, side) with the
    parents first; a child row whose key differs from the row before it has no parent. A sort
    spills its runs to disk within the memory limit, where DuckDB's hash table of every parent
    key outgrew it (docs/benchmarks.md, "Memory"). Fails with one row per missing key and the
    child rows that hold it. -#}
select {{ column_name }}, count(*) as child_rows
from {{ model }}
where {{ column_name }} in (
    {{- adapter.dispatch('missing_parent_keys', 'tracking')(model, column_name, to, field) }}
)
group by {{ column_name }}
{% endtest %}

{% macro default__missing_parent_keys(model, column_name, to, field) -%}
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

{#- Spark: a window without a partition moves every row into one task, where Spark's anti-join
    spills and is spread over the cluster. -#}
{% macro spark__missing_parent_keys(model, column_name, to, field) -%}
    select {{ column_name }} from {{ model }} where {{ column_name }} is not null
    except
    select {{ field }} from {{ to }}
{%- endmacro %}
