{{ config(materialized='view') }}
{#- Tracking frames with their agent type, observation_id and velocity. A view, like the 3D
    frames, so the per-episode incremental models only read the episodes they rebuild (every
    window below is within one episode).

    Agent type: the type int_tracking_csv__detection_classes gives the row's class label
    (trimmed): the ref_detection_classes seed's mapping, a non-environment type of
    ref_agent_types, or `class_<label>`; rows without a label (and files without classes) are
    of the generic type `agent`. The label itself is kept as the detection_class property.

    Velocity: backward difference in position units per frame, within a track (episode,
    agent_id) ordered by frame: v(t) = p(t) - p(t - 1) when the track's previous row is at
    frame t - 1, NULL on a track's first row and after a gap (a missing frame, which is also
    how a restarted track id shows). -#}
with frames as (
    select * from {{ ref('stg_tracking_csv__frames') }}
),

classes as (
    select detection_class, agent_type_id from {{ ref('int_tracking_csv__detection_classes') }}
),

typed as (
    select
        frames.*,
        coalesce(classes.agent_type_id, 'agent') as agent_type_id,
        lag(frames.time_index) over track as previous_frame,
        lag(frames.x) over track as previous_x,
        lag(frames.y) over track as previous_y,
        lag(frames.z) over track as previous_z
    from frames
    left join classes on classes.detection_class = trim(frames.detection_class)
    window track as (partition by frames.episode_id, frames.agent_id order by frames.time_index)
)

select
    {{ observation_key_columns() }},
    x,
    y,
    z,
    case when time_index - previous_frame = 1 then x - previous_x end as v_x,
    case when time_index - previous_frame = 1 then y - previous_y end as v_y,
    case when time_index - previous_frame = 1 then z - previous_z end as v_z,
    bbox_x1,
    bbox_y1,
    bbox_x2,
    bbox_y2,
    image_u,
    image_v,
    confidence,
    detection_class
from typed
