{#- Renames to the warehouse's vocabulary and turns the "no scene mesh" sentinel (-1.0 in
    mesh_scene_distance, written by runs without a scene mesh) into NULL. -#}
{%- set no_scene_mesh = "mesh_scene_distance = -1.0" %}
select
    episode_id,
    {{ adapter.quote('time') }} as time_index,
    id as agent_id,
    {{ adapter.quote('type') }} as agent_type_id,
    x,
    y,
    z,
    v_x,
    v_y,
    v_z,
    {%- for k in boids_3d_target_numbers() %}
    distance_target_center_{{ k }},
    distance_target_mesh_{{ k }},
    target_mesh_closest_point_{{ k }}_x,
    target_mesh_closest_point_{{ k }}_y,
    target_mesh_closest_point_{{ k }}_z,
    {%- endfor %}
    case when {{ no_scene_mesh }} then null else mesh_scene_distance end as mesh_scene_distance,
    {%- for axis in ['x', 'y', 'z'] %}
    case when {{ no_scene_mesh }} then null else mesh_scene_closest_point_{{ axis }} end
        as mesh_scene_closest_point_{{ axis }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from {{ source_or_empty('boids_3d', 'boids_3d_frames') }} as src
