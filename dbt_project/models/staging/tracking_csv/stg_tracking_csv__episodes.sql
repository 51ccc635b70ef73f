{#- Tracking episodes, with the episode each one's data was derived from. The pipeline carries
    the thermal detections of thermal_N over to the view of rgb_N: every episode of an rgb
    camera derives from the tracks episode of the thermal camera of the same name with `rgb`
    replaced by `thermal` (rgb_1 -> thermal_1), when the session has exactly one such; a
    centroids_3d episode is computed from its camera's boxes, so it derives from the bboxes
    episode of its camera when the camera has exactly one, else as its camera's other
    episodes. -#}
with episodes as (
    select * from {{ source_or_empty('tracking_csv', 'tracking_csv_episodes') }} as src
),

thermal_tracks as (
    select session_id, lower(camera) as camera, min(episode_id) as episode_id
    from episodes
    where shape = 'tracks' and modality = 'thermal'
    group by session_id, lower(camera)
    having count(*) = 1
),

camera_boxes as (
    select session_id, camera, min(episode_id) as episode_id
    from episodes
    where shape = 'bboxes'
    group by session_id, camera
    having count(*) = 1
),

derived as (
    select
        episodes.*,
        case
            when episodes.shape = 'centroids_3d' and camera_boxes.episode_id is not null
                then camera_boxes.episode_id
            else thermal_tracks.episode_id
        end as derived_from_episode_id
    from episodes
    left join thermal_tracks
        on thermal_tracks.session_id = episodes.session_id
        and episodes.modality = 'rgb'
        and thermal_tracks.camera = 'thermal' || substr(lower(episodes.camera), 4)
    left join camera_boxes
        on camera_boxes.session_id = episodes.session_id
        and camera_boxes.camera = episodes.camera
)

select
    episode_id,
    session_id,
    episode_number,
    camera || '/' || file_name as episode_name,
    camera,
    modality,
    file_name,
    also_named,
    shape,
    file_path,
    file_size_bytes,
    file_sha256,
    num_rows as source_rows,
    rows_without_world_point,
    ignored_columns,
    cast(null as {{ dbt.type_string() }}) as role,
    derived_from_episode_id,
    cast(null as bigint) as counterpart_episode_id,
    {{ json_object([
        ('camera', 'camera'),
        ('modality', 'modality'),
        ('shape', 'shape'),
        ('also_named', 'also_named'),
        ('rows_without_world_point', 'rows_without_world_point'),
        ('file_size_bytes', 'file_size_bytes'),
        ('ignored_columns', 'ignored_columns'),
    ]) }} as metadata
from derived
