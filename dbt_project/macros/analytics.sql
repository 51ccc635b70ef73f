{#
  Helpers of the wide observation model and the analytics marts (models/marts/analytics).
#}

{#
  Continuous percentile (linear interpolation between the closest ranks, as numpy/pandas
  'linear') of expression at fraction, as an aggregate: Postgres' ordered-set aggregate
  percentile_cont, DuckDB's quantile_cont.
#}
{% macro continuous_percentile(expression, fraction) -%}
    {{ return(adapter.dispatch('continuous_percentile', 'tracking')(expression, fraction)) }}
{%- endmacro %}

{% macro default__continuous_percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__continuous_percentile(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{#
  The extended properties as dicts (property_id, data_type, base_property_id, description,
  unit), ordered by property_id, read when the calling model is compiled: from the property_definitions mart
  (so the 3D targets k > 1 found in the data are included), or, on a warehouse where it does
  not exist yet, from the ref_property_definitions seed; an empty list when neither exists or
  when dbt is only parsing. A model calling this needs
  `-- depends_on: {{ ref('property_definitions') }}`.
#}
{% macro property_columns() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set definitions = ref('property_definitions') -%}
    {%- if tracking.relation_exists(definitions) -%}
        {%- set query -%}
            select property_id, data_type, base_property_id, description, unit
            from {{ definitions }} order by property_id
        {%- endset -%}
    {%- else -%}
        {%- set seed_node = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'seed')
            | selectattr('name', 'equalto', 'ref_property_definitions')
            | first -%}
        {%- set seed = api.Relation.create(
            database=seed_node.database, schema=seed_node.schema,
            identifier=seed_node.alias or seed_node.name) -%}
        {%- if not tracking.relation_exists(seed) -%}
            {{ return([]) }}
        {%- endif -%}
        {%- set query -%}
            select property_id, data_type, property_id as base_property_id, description, unit
            from {{ seed }} order by property_id
        {%- endset -%}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do columns.append({
            'property_id': row[0], 'data_type': row[1], 'base_property_id': row[2],
            'description': row[3], 'unit': row[4]}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#
  Post-hook of observation_properties_wide: a database comment (description and unit from
  property_definitions) on every property column its YAML does not describe, i.e. the
  per-target columns of 3D targets k > 1 and definitions added after the YAML was written.
  SQL clients show it; `dbt docs generate` picks it up from the catalog.
#}
{% macro comment_property_columns() -%}
    {%- set described = model.columns.keys() | map('lower') | list -%}
    {%- for column in tracking.property_columns() if column['property_id'] | lower not in described -%}
        {%- set text = column['description'] ~ (' Unit: ' ~ column['unit'] ~ '.' if column['unit'] else '') -%}
        {%- if target.type == 'spark' -%}
            {#- Spark: one statement per hook query; quotes escaped with a backslash -#}
            {%- do run_query('alter table ' ~ this ~ ' alter column ' ~ adapter.quote(column['property_id'])
                ~ " comment '" ~ text | replace("'", "\\'") ~ "'") -%}
        {%- else %}
        comment on column {{ this }}.{{ adapter.quote(column['property_id']) }}
            is '{{ text | replace("'", "''") }}';
        {% endif -%}
    {% endfor -%}
{%- endmacro %}

{#
  The property ids among `properties` (property_columns()) whose values are distances to a
  target (var target_distance_properties, matched on base_property_id: every 3D target k's
  distance_to_target_mesh[_k], the 2D food distance), as columns of observation_properties_wide.
#}
{% macro target_distance_columns(properties) -%}
    {%- set bases = var('target_distance_properties') -%}
    {%- set ids = [] -%}
    {%- for column in properties -%}
        {%- if column['base_property_id'] in bases and column['data_type'] == 'float' -%}
            {%- do ids.append(column['property_id']) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ids) }}
{%- endmacro %}

{#
  SQL expression: the distance to the nearest target, the smallest non-NULL of the target
  distance columns of `alias` (least() skips NULLs on both targets); NULL without any.
#}
{% macro nearest_target_distance(alias, columns) -%}
    {%- if columns | length == 0 -%}
        cast(null as {{ tracking.type_double() }})
    {%- elif columns | length == 1 -%}
        {{ alias }}.{{ adapter.quote(columns[0]) }}
    {%- else -%}
        least({% for c in columns %}{{ alias }}.{{ adapter.quote(c) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#
  SQL expression: `expression` clamped to [low, high]; NULL stays NULL (unlike least/greatest,
  which skip NULL arguments on both targets).
#}
{% macro clamp(expression, low, high) -%}
    case
        when ({{ expression }}) < {{ low }} then {{ low }}
        when ({{ expression }}) > {{ high }} then {{ high }}
        else ({{ expression }})
    end
{%- endmacro %}

{#
  SQL expression: the Pearson correlation of two series over their n shared frames from n
  times their variances and covariance (var_a, var_b, cov), clamped to [-1, 1]; NULL with fewer
  than two frames or when either series is constant: its population standard deviation at
  most 1e-9 times its largest |value| (scale_a, scale_b). Values derived by differences carry
  rounding noise around 1e-15 of their size, whose "correlation" means nothing.
#}
{% macro guarded_correlation(n, var_a, var_b, cov, scale_a, scale_b) -%}
    case
        when {{ n }} >= 2
            and {{ var_a }} > {{ n }} * (1e-9 * {{ scale_a }}) * (1e-9 * {{ scale_a }})
            and {{ var_b }} > {{ n }} * (1e-9 * {{ scale_b }}) * (1e-9 * {{ scale_b }})
            then {{ tracking.clamp(cov ~ ' / sqrt(' ~ var_a ~ ' * ' ~ var_b ~ ')', '-1.0', '1.0') }}
    end
{%- endmacro %}

{#
  FROM and GROUP BY of an aggregate per unordered pair of agents: each row `a` of `relation`
  (one per episode, frame and agent, `entity` an integer per agent of the episode) joined with
  the rows `b` of the same frame whose entity comes after it, so each pair once, grouped by
  episode and pair (a.entity, b.entity).
#}
{% macro same_frame_pairs(relation) -%}
    from {{ relation }} as a
    inner join {{ relation }} as b
        on b.episode_id = a.episode_id
        and b.time_index = a.time_index
        and b.entity > a.entity
    group by a.episode_id, a.entity, b.entity
{%- endmacro %}

{#
  Euclidean distance between two positions given by column prefixes (e.g. 'a.' and 'b.', or
  '' and 'previous_'); z differences count as 0 when NULL (2D sources).
#}
{% macro position_distance(a, b) -%}
    sqrt(
        ({{ a }}x - {{ b }}x) * ({{ a }}x - {{ b }}x)
        + ({{ a }}y - {{ b }}y) * ({{ a }}y - {{ b }}y)
        + coalesce(({{ a }}z - {{ b }}z) * ({{ a }}z - {{ b }}z), 0)
    )
{%- endmacro %}

{#
  The body of a CTE: one row per observation of a non-environment agent (agent_types
  .is_environment false) from observation_properties_wide, with position, velocity, speed and
  distance_to_target (the nearest target). In an incremental build only the episodes the
  calling model has to rebuild (episodes_to_build).
#}
{% macro analytics_agent_frames() -%}
    select
        wide.episode_id,
        wide.time_index,
        wide.agent_type_id,
        wide.agent_id,
        wide.x,
        wide.y,
        wide.z,
        wide.v_x,
        wide.v_y,
        wide.v_z,
        wide.speed,
        wide.acceleration_magnitude,
        wide.distance_to_target
    from {{ tracking.episodes_to_build(ref('observation_properties_wide'), 'wide') }}
    inner join {{ ref('agent_types') }} as agent_types
        on agent_types.agent_type_id = wide.agent_type_id
    where not agent_types.is_environment
{%- endmacro %}

{#
  SQL expression: the value of a per-category analytics var (occupancy_bin_size,
  target_reach_distance) for the category in `category_column`. The var is a number (one value
  for every category) or a mapping category_id -> number with an optional 'default' for the
  categories it does not name.
#}
{% macro category_setting(name, category_column) -%}
    {%- set setting = var(name) -%}
    {%- if setting is mapping -%}
        {%- if 'default' not in setting -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ " needs a 'default' entry") }}
        {%- endif -%}
        cast(case {{ category_column }}
        {%- for category, value in setting.items() if category != 'default' %}
            when '{{ category }}' then {{ value | float }}
        {%- endfor %}
            else {{ setting['default'] | float }}
        end as {{ tracking.type_double() }})
    {%- else -%}
        cast({{ setting | float }} as {{ tracking.type_double() }})
    {%- endif -%}
{%- endmacro %}
