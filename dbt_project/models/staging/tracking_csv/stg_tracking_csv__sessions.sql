select
    session_id,
    session_name,
    'tracking_csv' as category_id,
    source_path,
    cast(session_date as date) as session_date,
    cast(session_date as timestamp) as started_at,
    session_number,
    metadata_json,
    metadata_frame_rate,
    num_episode_files
from {{ source_or_empty('tracking_csv', 'tracking_csv_sessions') }} as src
