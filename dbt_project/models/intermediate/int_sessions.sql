{{ config(materialized='view') }}
{#- Sessions of every source family in one shape. -#}
select
    session_id,
    session_name,
    category_id,
    config_json,
    {{ json_object([
        ('source_path', 'source_path'),
        ('run_prefix', 'run_prefix'),
        ('started_at', "cast(started_at as " ~ dbt.type_string() ~ ")"),
    ]) }} as metadata,
    started_at,
    config_frame_rate
from {{ ref('stg_boids3d__sessions') }}
