{{ config(materialized='view') }}
{#- Episodes of every source family in one shape. -#}
select
    episode_id,
    session_id,
    'boids_3d' as category_id,
    episode_number,
    episode_name,
    file_name,
    file_path,
    file_sha256,
    source_rows
from {{ ref('stg_boids_3d__episodes') }}
union all
select
    episode_id,
    session_id,
    'tracking_csv' as category_id,
    episode_number,
    episode_name,
    file_name,
    file_path,
    file_sha256,
    source_rows
from {{ ref('stg_tracking_csv__episodes') }}
union all
select
    episode_id,
    session_id,
    'boids_2d' as category_id,
    episode_number,
    episode_name,
    file_name,
    file_path,
    file_sha256,
    source_rows
from {{ ref('stg_boids_2d__episodes') }}
