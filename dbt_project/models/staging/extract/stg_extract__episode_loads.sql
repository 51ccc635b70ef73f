select
    episode_id,
    load_seq
from {{ source_or_empty('extract', 'episode_loads') }} as src
