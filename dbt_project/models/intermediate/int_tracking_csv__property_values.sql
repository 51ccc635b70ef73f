{{ config(materialized='view') }}
{#- Tracking extended properties in EAV form (family_properties('tracking_csv')): the box corners
    and the detector confidence (value_float) and the detection class label (value_text), for
    rows that have them. -#}
{{ unpivot_family_properties(ref('int_tracking_csv__frames'), 'tracking_csv') }}
