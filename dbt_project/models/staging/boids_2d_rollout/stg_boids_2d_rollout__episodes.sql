{#- derived_from_episode_id: the matched dataset episode, only when that episode is in the
    warehouse (the dataset may never have been landed). -#}
select
    src.episode_id,
    src.session_id,
    src.episode_number,
    src.episode_name,
    src.num_frames,
    src.num_agents,
    src.file_name,
    src.file_path,
    src.file_size_bytes,
    src.file_sha256,
    src.num_rows as source_rows,
    src.role,
    datasets.episode_id as derived_from_episode_id,
    src.counterpart_episode_id,
    src.epoch,
    src.batch,
    src.trajectory,
    src.first_non_finite_frame,
    src.dataset_sample,
    {{ json_object([
        ('epoch', 'src.epoch'),
        ('batch', 'src.batch'),
        ('trajectory', 'src.trajectory'),
        ('start_frame', 'sessions.start_frame'),
        ('rollout_frames', 'src.rollout_frames'),
        ('first_non_finite_frame', 'src.first_non_finite_frame'),
        ('dataset_sample', 'src.dataset_sample'),
        ('file_size_bytes', 'src.file_size_bytes'),
    ]) }} as metadata
from {{ source_or_empty('boids_2d_rollout', 'boids_2d_rollout_episodes') }} as src
left join {{ source_or_empty('boids_2d_rollout', 'boids_2d_rollout_sessions') }} as sessions
    on sessions.session_id = src.session_id
left join {{ ref('stg_boids_2d__episodes') }} as datasets
    on datasets.episode_id = src.dataset_episode_id
