select
    session_id,
    session_name,
    source_path,
    run_prefix,
    cast(started_at as timestamp) as started_at,
    config_json,
    config_frame_rate,
    {{ json_object([
        ('source_path', 'source_path'),
        ('run_prefix', 'run_prefix'),
        ('started_at', "cast(cast(started_at as timestamp) as " ~ dbt.type_string() ~ ")"),
    ]) }} as metadata
from {{ source_or_empty('boids_3d', 'boids_3d_sessions') }} as src
