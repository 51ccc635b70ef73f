{% test foreign_key(model, columns, to, fields) %}
{#- A relationships test over several columns: fails on every distinct combination of
    `columns` (none of them NULL) that matches no row of `to` on `fields`, pairwise. -#}
{%- if columns | length != fields | length %}
    {{ exceptions.raise_compiler_error('foreign_key: columns ' ~ columns ~ ' and fields ' ~ fields ~ ' differ in length') }}
{%- endif %}
with child as (
    select {{ columns | join(', ') }}
    from {{ model }}
    where {{ columns | join(' is not null and ') }} is not null
)

select distinct child.*
from child
where not exists (
    select 1
    from {{ to }} as parent
    where
        {%- for column in columns %}
        parent.{{ fields[loop.index0] }} = child.{{ column }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
)
{% endtest %}
