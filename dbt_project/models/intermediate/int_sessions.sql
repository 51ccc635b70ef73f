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
from {{ ref('stg_boids_3d__sessions') }}
union all
select
    session_id,
    session_name,
    category_id,
    metadata_json as config_json,
    {{ json_object([
        ('source_path', 'source_path'),
        ('session_number', 'session_number'),
        ('started_at', "cast(started_at as " ~ dbt.type_string() ~ ")"),
        ('has_metadata_file', 'metadata_json is not null'),
    ]) }} as metadata,
    started_at,
    metadata_frame_rate as config_frame_rate
from {{ ref('stg_tracking_csv__sessions') }}
union all
select
    session_id,
    session_name,
    category_id,
    config_json,
    {{ json_object([
        ('source_path', 'source_path'),
        ('config_path', 'config_path'),
        ('container', 'container'),
        ('num_samples', 'num_samples'),
        ('num_agents', 'num_agents'),
        ('species_to_idx', json_from_text('species_to_idx_json')),
        ('width', 'width'),
        ('height', 'height'),
        ('size_source', 'size_source'),
        ('food_x', 'food_x'),
        ('food_y', 'food_y'),
    ]) }} as metadata,
    cast(null as timestamp) as started_at,
    cast(null as double precision) as config_frame_rate
from {{ ref('stg_boids_2d__sessions') }}
