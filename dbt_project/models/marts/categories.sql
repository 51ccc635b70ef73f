select category_id, category_name, description
from {{ ref('ref_categories') }}
