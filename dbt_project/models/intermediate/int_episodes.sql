{{ config(materialized='view') }}
{#- Episodes of every source family in one shape (source_families()). -#}
{{ union_families(
    'stg_{family}__episodes',
    ['episode_id', 'session_id', 'episode_number', 'episode_name', 'file_name', 'file_path',
     'file_sha256', 'source_rows', 'role', 'derived_from_episode_id', 'counterpart_episode_id',
     'metadata'],
    category_id=true,
) }}
