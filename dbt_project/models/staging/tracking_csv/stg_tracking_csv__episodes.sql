select
    episode_id,
    session_id,
    episode_number,
    camera || '/' || file_name as episode_name,
    camera,
    file_name,
    shape,
    file_path,
    file_size_bytes,
    file_sha256,
    num_rows as source_rows,
    ignored_columns,
    cast(null as {{ dbt.type_string() }}) as role,
    cast(null as bigint) as derived_from_episode_id,
    cast(null as bigint) as counterpart_episode_id,
    {{ json_object([
        ('camera', 'camera'),
        ('shape', 'shape'),
        ('file_size_bytes', 'file_size_bytes'),
        ('ignored_columns', 'ignored_columns'),
    ]) }} as metadata
from {{ source_or_empty('tracking_csv', 'tracking_csv_episodes') }} as src
