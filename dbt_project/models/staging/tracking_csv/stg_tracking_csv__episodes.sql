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
    ignored_columns
from {{ source_or_empty('tracking_csv', 'tracking_csv_episodes') }} as src
