{#- Renames to the warehouse's vocabulary. The position of a bboxes row is its box centre;
    tracks and centroids_3d rows keep their centroid. -#}
select
    episode_id,
    frame as time_index,
    track_id as agent_id,
    case when x1 is null then x else (x1 + x2) / 2 end as x,
    case when x1 is null then y else (y1 + y2) / 2 end as y,
    z,
    x1 as bbox_x1,
    y1 as bbox_y1,
    x2 as bbox_x2,
    y2 as bbox_y2,
    confidence,
    {{ adapter.quote('class') }} as detection_class
from {{ source_or_empty('tracking_csv', 'tracking_csv_frames') }} as src
