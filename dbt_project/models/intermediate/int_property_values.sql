{{ config(materialized='view') }}
{#- Extended property values of every source family in one shape. -#}
select * from {{ ref('int_boids_3d__property_values') }}
union all
select * from {{ ref('int_tracking_csv__property_values') }}
union all
select * from {{ ref('int_boids_2d__property_values') }}
union all
select observation_id, episode_id, property_id, value_float, value_text
from {{ ref('int_computed__property_values') }}
