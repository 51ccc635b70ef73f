select
    session_id,
    session_name,
    'boids_2d' as category_id,
    source_path,
    config_path,
    config_json,
    container,
    num_samples,
    num_agents,
    species_to_idx_json,
    width,
    height,
    size_source,
    food_x,
    food_y
from {{ source_or_empty('boids_2d', 'boids_2d_sessions') }} as src
