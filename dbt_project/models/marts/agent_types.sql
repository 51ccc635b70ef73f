select agent_type_id, agent_type_name, is_environment, description
from {{ ref('ref_agent_types') }}
