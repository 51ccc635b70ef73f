{% test expression_is_true(model, expression) %}
{#- Fails on every row where the boolean expression is not true (use the `where` config to
    restrict the rows checked). -#}
select *
from {{ model }}
where not coalesce({{ expression }}, false)
{% endtest %}
