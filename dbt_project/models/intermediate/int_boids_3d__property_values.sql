{{ config(materialized='view') }}
{#- 3D extended properties in EAV form (family_properties('boids_3d')): per target k the centre
    and mesh distances and the mesh closest point, then the scene-mesh distance and closest
    point. NULL values (env rows, frames before a target exists, runs without a scene mesh)
    are not stored. -#}
{{ unpivot_family_properties(ref('int_boids_3d__frames'), 'boids_3d') }}
