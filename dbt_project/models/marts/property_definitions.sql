{#- The reference definitions, plus one suffixed copy of each per-target property for every
    further target k > 1 found in the 3D data (e.g. distance_to_target_center_2). -#}
with reference as (
    select * from {{ ref('ref_property_definitions') }}
)

select
    property_id,
    {{ property_key('property_id') }} as property_key,
    property_name,
    data_type,
    description,
    unit,
    property_id as base_property_id,
    case when per_target then 1 end as target_number
from reference
{%- for k in boids_3d_target_numbers() if k > 1 %}
union all
select
    property_id || '_{{ k }}',
    {{ property_key("property_id || '_" ~ k ~ "'") }},
    property_name || ' (target {{ k }})',
    data_type,
    replace(description, 'target 1', 'target {{ k }}'),
    unit,
    property_id,
    {{ k }}
from reference
where per_target
{%- endfor %}
