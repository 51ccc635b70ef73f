{#- The ref_agent_types seed, and a type of its own for each detection class label that maps to
    no agent type (int_tracking_csv__detection_classes), so that every observation's type is
    listed. -#}
select agent_type_id, agent_type_name, is_environment, description
from {{ ref('ref_agent_types') }}
union all
select
    agent_type_id,
    'Detector class ' || detection_class as agent_type_name,
    false as is_environment,
    'An unmapped detector class: tracking rows of class label ' || detection_class
    || '. Map the label to an agent type in the ref_detection_classes seed.' as description
from {{ ref('int_tracking_csv__detection_classes') }}
where mapped_by = 'unmapped'
