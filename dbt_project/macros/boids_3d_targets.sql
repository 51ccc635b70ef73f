{#
  Target numbers k present in raw.boids_3d_frames, found from its columns
  (distance_target_center_<k>) when the project is compiled. The extract stage adds one set
  of target columns per target it has seen, so every target of every loaded run is kept.
#}
{% macro boids_3d_target_numbers() -%}
    {%- if not execute -%}
        {{ return([1]) }}
    {%- endif -%}
    {%- set relation = source('boids_3d', 'boids_3d_frames') -%}
    {%- set numbers = [] -%}
    {%- if not tracking.relation_exists(relation) -%}
        {{ return(numbers) }}
    {%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set name = column.name | lower -%}
        {%- if name.startswith('distance_target_center_') -%}
            {%- do numbers.append(name.replace('distance_target_center_', '') | int) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(numbers | sort) }}
{%- endmacro %}

{#
  The property id of a per-target property for target k: target 1 keeps the base id of the
  property definitions seed, further targets get the suffix _<k>.
#}
{% macro target_property_id(base_id, k) -%}
    {%- if k == 1 -%}{{ base_id }}{%- else -%}{{ base_id }}_{{ k }}{%- endif -%}
{%- endmacro %}
