select category_id, category_name, description, top_down_axis
from {{ ref('ref_categories') }}
