{#- 3D frames with their observation_id, computed once here for both the observations and
    the extended properties built from them. -#}
select
    {{ hash_bigint(['episode_id', 'time_index', 'agent_type_id', 'agent_id']) }} as observation_id,
    *
from {{ ref('stg_boids3d__frames') }}
