select
    definitions.property_id,
    mapping.category_id
from {{ ref('property_definitions') }} as definitions
inner join {{ ref('ref_property_category_mapping') }} as mapping
    on mapping.property_id = definitions.base_property_id
