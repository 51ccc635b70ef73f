{#
  The integer key of a property id (an SQL text expression): the id's hash_bigint modulo
  2^31 - 1, identical on every target. extended_properties carries it beside the text id so
  that its Postgres index sorts and compares integers only; property_definitions holds it per
  id (its unique test would stop a build on two ids with one key).
#}
{% macro property_key(property_id) -%}
    cast({{ tracking.hash_bigint([property_id]) }} % 2147483647 as integer)
{%- endmacro %}

{#
  Unpivot columns of a relation (or CTE name) into EAV rows (observation_id, episode_id,
  property_id, property_key, value_float, value_text), keeping only non-null values. Each
  property's key is a constant expression, folded once per statement. `float_properties` and
  `text_properties` are lists of (property_id, expression) pairs, landing in value_float and
  value_text respectively. One scan of the relation, each expression computed once per row:
  DuckDB's UNPIVOT there; on Postgres a lateral VALUES list over a subquery fenced with
  OFFSET 0 (without the fence the planner inlines the expressions, e.g. the observation_id
  hash, into every VALUES row). The same rows on both targets.
#}
{% macro unpivot_properties(relation, float_properties=[], text_properties=[]) -%}
    {{ return(adapter.dispatch('unpivot_properties', 'tracking')(relation, float_properties, text_properties)) }}
{%- endmacro %}

{% macro default__unpivot_properties(relation, float_properties, text_properties) -%}
    {%- set no_float = 'cast(null as ' ~ tracking.type_double() ~ ')' -%}
    {%- set no_text = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- set properties = float_properties + text_properties -%}
    select
        src.observation_id,
        src.episode_id,
        prop.property_id,
        prop.property_key,
        prop.value_float,
        prop.value_text
    from (
        select
            observation_id,
            episode_id
            {%- for property_id, expression in float_properties %},
            cast({{ expression }} as {{ tracking.type_double() }}) as p{{ loop.index }}
            {%- endfor %}
            {%- for property_id, expression in text_properties %},
            cast({{ expression }} as {{ dbt.type_string() }}) as p{{ float_properties | length + loop.index }}
            {%- endfor %}
        from {{ relation }}
        offset 0
    ) as src
    cross join lateral (
        values
        {%- for property_id, _ in float_properties %}
            ('{{ property_id }}', {{ tracking.property_key("'" ~ property_id ~ "'") }}, src.p{{ loop.index }}, {{ no_text }}){% if not loop.last or text_properties %},{% endif %}
        {%- endfor %}
        {%- for property_id, _ in text_properties %}
            ('{{ property_id }}', {{ tracking.property_key("'" ~ property_id ~ "'") }}, {{ no_float }}, src.p{{ float_properties | length + loop.index }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as prop (property_id, property_key, value_float, value_text)
    where prop.value_float is not null or prop.value_text is not null
{%- endmacro %}

{% macro duckdb__unpivot_properties(relation, float_properties, text_properties) -%}
    {%- set branches = [] -%}
    {%- if float_properties -%}
        {%- do branches.append(tracking.duckdb_unpivot(relation, float_properties, 'double', 'value_float')) -%}
    {%- endif -%}
    {%- if text_properties -%}
        {%- do branches.append(tracking.duckdb_unpivot(relation, text_properties, 'varchar', 'value_text')) -%}
    {%- endif -%}
    {{ branches | join('\nunion all\n') }}
{%- endmacro %}

{% macro duckdb_unpivot(relation, properties, type, value_column) -%}
    select
        observation_id,
        episode_id,
        property_id,
        case property_id
            {%- for property_id, _ in properties %}
            when '{{ property_id }}' then {{ tracking.property_key("'" ~ property_id ~ "'") }}
            {%- endfor %}
        end as property_key,
        {%- if value_column == 'value_float' %}
        value_float,
        cast(null as varchar) as value_text
        {%- else %}
        cast(null as double) as value_float,
        value_text
        {%- endif %}
    from (
        unpivot (
            select
                observation_id,
                episode_id
                {%- for property_id, expression in properties %},
                cast({{ expression }} as {{ type }}) as "{{ property_id }}"
                {%- endfor %}
            from {{ relation }}
        )
        on {% for property_id, _ in properties %}"{{ property_id }}"{% if not loop.last %}, {% endif %}{% endfor %}
        into name property_id value {{ value_column }}
    )
{%- endmacro %}

{% macro spark__unpivot_properties(relation, float_properties, text_properties) -%}
    {%- set pairs = [] -%}
    {%- for property_id, expression in float_properties -%}
        {%- do pairs.append("'" ~ property_id ~ "', " ~ tracking.property_key("'" ~ property_id ~ "'") ~ ", cast(" ~ expression ~ " as double), cast(null as string)") -%}
    {%- endfor -%}
    {%- for property_id, expression in text_properties -%}
        {%- do pairs.append("'" ~ property_id ~ "', " ~ tracking.property_key("'" ~ property_id ~ "'") ~ ", cast(null as double), cast(" ~ expression ~ " as string)") -%}
    {%- endfor -%}
    select observation_id, episode_id, property_id, property_key, value_float, value_text
    from (
        select
            observation_id,
            episode_id,
            stack({{ pairs | length }}, {{ pairs | join(', ') }}) as (property_id, property_key, value_float, value_text)
        from {{ relation }}
    ) as prop
    where value_float is not null or value_text is not null
{%- endmacro %}

{#
  `from <alias>` continued by one row per (row, metric) of the named columns of `alias`, as
  (metric, metric_value) with NULL values left out by the caller: a lateral VALUES list (Spark:
  a `lateral view stack`, its own form of the same).
#}
{% macro metric_rows(alias, metrics) -%}
    {{ return(adapter.dispatch('metric_rows', 'tracking')(alias, metrics)) }}
{%- endmacro %}

{% macro default__metric_rows(alias, metrics) -%}
    cross join lateral (
        values
        {%- for name in metrics %}
            (cast('{{ name }}' as {{ dbt.type_string() }}), cast({{ alias }}.{{ name }} as {{ tracking.type_double() }})){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as metric (metric, metric_value)
{%- endmacro %}

{% macro spark__metric_rows(alias, metrics) -%}
    lateral view stack({{ metrics | length }}
        {%- for name in metrics %}, '{{ name }}', cast({{ alias }}.{{ name }} as double){% endfor -%}
    ) metric as metric, metric_value
{%- endmacro %}
