{% test primary_key(model, column_name) %}
{#- dbt's unique and not_null in one scan: fails on every value that occurs more than once,
    and on NULL. -#}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
