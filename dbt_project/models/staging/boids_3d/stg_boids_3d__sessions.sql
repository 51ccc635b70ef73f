select
    session_id,
    session_name,
    'boids_3d' as category_id,
    source_path,
    run_prefix,
    cast(started_at as timestamp) as started_at,
    config_json,
    config_frame_rate
from {{ source_or_empty('boids_3d', 'boids_3d_sessions') }} as src
