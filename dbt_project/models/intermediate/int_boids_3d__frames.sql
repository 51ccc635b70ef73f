{{ config(materialized='view') }}
{#- 3D frames with their observation_id. A view, so that the per-episode incremental models
    built on it only read (and hash) the episodes they rebuild. -#}
select
    {{ observation_id() }} as observation_id,
    *
from {{ ref('stg_boids_3d__frames') }}
