{{ config(materialized='view') }}
{#- Sessions of every source family in one shape (source_families()). -#}
{{ union_families(
    'stg_{family}__sessions',
    ['session_id', 'session_name', 'config_json', 'metadata', 'started_at', 'config_frame_rate'],
    category_id=true,
) }}
