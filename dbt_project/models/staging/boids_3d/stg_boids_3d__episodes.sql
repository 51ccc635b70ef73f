select
    episode_id,
    session_id,
    episode_number,
    'episode-' || cast(episode_number as {{ dbt.type_string() }}) as episode_name,
    file_name,
    file_path,
    cast(completed_at as timestamp) as completed_at,
    file_size_bytes,
    file_sha256,
    num_rows as source_rows,
    num_targets,
    cast(null as {{ dbt.type_string() }}) as role,
    cast(null as bigint) as derived_from_episode_id,
    cast(null as bigint) as counterpart_episode_id,
    {{ json_object([
        ('completed_at', "cast(cast(completed_at as timestamp) as " ~ dbt.type_string() ~ ")"),
        ('num_targets', 'num_targets'),
        ('file_size_bytes', 'file_size_bytes'),
    ]) }} as metadata
from {{ source_or_empty('boids_3d', 'boids_3d_episodes') }} as src
