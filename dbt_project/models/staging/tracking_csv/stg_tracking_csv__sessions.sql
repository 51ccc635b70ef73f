select
    session_id,
    session_name,
    source_path,
    cast(session_date as date) as session_date,
    cast(session_date as timestamp) as started_at,
    session_number,
    metadata_json as config_json,
    metadata_frame_rate as config_frame_rate,
    num_episode_files,
    {{ json_object([
        ('source_path', 'source_path'),
        ('session_number', 'session_number'),
        ('started_at', "cast(cast(session_date as timestamp) as " ~ dbt.type_string() ~ ")"),
        ('has_metadata_file', 'metadata_json is not null'),
    ]) }} as metadata
from {{ source_or_empty('tracking_csv', 'tracking_csv_sessions') }} as src
