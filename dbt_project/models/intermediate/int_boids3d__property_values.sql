{{ config(materialized='view') }}
{#- 3D extended properties in EAV form: per target k the centre and mesh distances and the
    mesh closest point, then the scene-mesh distance and closest point. NULL values (env
    rows, frames before a target exists, runs without a scene mesh) are not stored. -#}
{%- set properties = [] %}
{%- for k in boids3d_target_numbers() %}
    {%- do properties.append((target_property_id('distance_to_target_center', k), 'distance_target_center_' ~ k)) %}
    {%- do properties.append((target_property_id('distance_to_target_mesh', k), 'distance_target_mesh_' ~ k)) %}
    {%- for axis in ['x', 'y', 'z'] %}
        {%- do properties.append((target_property_id('target_mesh_closest_' ~ axis, k), 'target_mesh_closest_point_' ~ k ~ '_' ~ axis)) %}
    {%- endfor %}
{%- endfor %}
{%- do properties.append(('distance_to_scene_mesh', 'mesh_scene_distance')) %}
{%- for axis in ['x', 'y', 'z'] %}
    {%- do properties.append(('scene_mesh_closest_' ~ axis, 'mesh_scene_closest_point_' ~ axis)) %}
{%- endfor %}
{{ unpivot_float_properties(ref('int_boids3d__frames'), properties) }}
