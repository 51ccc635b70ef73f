{{ config(materialized='view') }}
{#- 2D extended properties in EAV form: distance_to_food of the agents of food datasets.
    NULL values (the food itself, datasets without food) are not stored. -#}
{{ unpivot_float_properties(ref('int_boids2d__frames'), [('distance_to_food', 'distance_to_food')]) }}
