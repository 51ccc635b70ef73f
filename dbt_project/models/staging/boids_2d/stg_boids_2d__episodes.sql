select
    episode_id,
    session_id,
    sample_index as episode_number,
    'sample-' || cast(sample_index as {{ dbt.type_string() }}) as episode_name,
    num_frames,
    num_agents,
    file_name,
    file_path,
    file_size_bytes,
    file_sha256,
    num_rows as source_rows,
    cast(null as {{ dbt.type_string() }}) as role,
    cast(null as bigint) as derived_from_episode_id,
    cast(null as bigint) as counterpart_episode_id,
    {{ json_object([
        ('sample_index', 'sample_index'),
        ('num_frames', 'num_frames'),
        ('num_agents', 'num_agents'),
        ('file_size_bytes', 'file_size_bytes'),
    ]) }} as metadata
from {{ source_or_empty('boids_2d', 'boids_2d_episodes') }} as src
