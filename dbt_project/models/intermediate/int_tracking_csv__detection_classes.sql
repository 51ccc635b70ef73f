{#- One row per detection class label found in the tracking frames (trimmed; empty labels are
    no label), with the agent type its rows get: the ref_detection_classes seed's mapping of
    the label; else the label lower-cased when it names a non-environment type of
    ref_agent_types (`Bird` is a bird); else a type of its own, `class_<label>`, which the
    agent_types mart lists. Rows without a label are of the generic type `agent`
    (int_tracking_csv__frames). -#}
with labels as (
    select distinct trim({{ adapter.quote('class') }}) as detection_class
    from {{ source_or_empty('tracking_csv', 'tracking_csv_frames') }} as src
    where trim({{ adapter.quote('class') }}) <> ''
),

mapped as (
    select trim(detection_class) as detection_class, agent_type_id
    from {{ ref('ref_detection_classes') }}
),

agent_types as (
    select agent_type_id from {{ ref('ref_agent_types') }} where not is_environment
)

select
    labels.detection_class,
    coalesce(
        mapped.agent_type_id, agent_types.agent_type_id, 'class_' || labels.detection_class
    ) as agent_type_id,
    case
        when mapped.agent_type_id is not null then 'ref_detection_classes'
        when agent_types.agent_type_id is not null then 'ref_agent_types'
        else 'unmapped'
    end as mapped_by
from labels
left join mapped on mapped.detection_class = labels.detection_class
left join agent_types on agent_types.agent_type_id = lower(labels.detection_class)
