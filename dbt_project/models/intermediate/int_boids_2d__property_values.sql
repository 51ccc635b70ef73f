{{ config(materialized='view') }}
{#- 2D extended properties in EAV form (family_properties('boids_2d')): distance_to_food of the
    agents of food datasets. NULL values (the food itself, datasets without food) are not
    stored. -#}
{{ unpivot_family_properties(ref('int_boids_2d__frames'), 'boids_2d') }}
