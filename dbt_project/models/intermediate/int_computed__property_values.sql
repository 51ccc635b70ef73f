{{ config(materialized='view') }}
{#- The computed properties of int_computed__kinematics in EAV form
    (family_properties('computed')); NULL values are not stored. -#}
{{ unpivot_family_properties(ref('int_computed__kinematics'), 'computed') }}
