{{ config(materialized='view') }}
{#- Extended property values of every source family in one shape. -#}
select * from {{ ref('int_boids3d__property_values') }}
