{{ config(materialized='view') }}
{#- Tracking extended properties in EAV form: the box corners and the detector confidence
    (value_float) and the detection class label (value_text), for rows that have them. -#}
{{ unpivot_properties(
    ref('int_tracking__frames'),
    float_properties=[
        ('bbox_x1', 'bbox_x1'),
        ('bbox_y1', 'bbox_y1'),
        ('bbox_x2', 'bbox_x2'),
        ('bbox_y2', 'bbox_y2'),
        ('confidence', 'confidence'),
    ],
    text_properties=[('detection_class', 'detection_class')],
) }}
