{#- Renames to the warehouse's vocabulary. The position of a bboxes row is its box centre;
    tracks and centroids_3d rows keep their centroid (3D rows also have a box). -#}
select
    episode_id,
    frame as time_index,
    track_id as agent_id,
    coalesce(x, (x1 + x2) / 2) as x,
    coalesce(y, (y1 + y2) / 2) as y,
    z,
    x1 as bbox_x1,
    y1 as bbox_y1,
    x2 as bbox_x2,
    y2 as bbox_y2,
    u as image_u,
    v as image_v,
    confidence,
    {{ adapter.quote('class') }} as detection_class
from {{ source_or_empty('tracking_csv', 'tracking_csv_frames') }} as src
