{#
  The source families, each named by its category id (the same name as its extract module
  extract/sources/<family>.py, its dbt source and staging folder staging/<family>/, and its raw
  tables raw.<family>_sessions, _episodes and _frames). The unions of sessions, episodes,
  observations and property values, and the wide model, are generated from this list, so
  adding a family is one entry here (docs/architecture.md, "Adding a source family").

  Each entry maps the extended properties the family measures to the column (or expression)
  of its frames model int_<family>__frames holding the value: `float` properties land in
  value_float, `text` ones in value_text. `per_target` properties exist once per 3D target k
  found in the data (boids_3d_target_numbers): `{k}` in the column is replaced by k, and the
  property id gets the suffix _<k> for k > 1 (target_property_id).
#}
{% macro source_families() -%}
    {{ return({
        'boids_3d': {
            'per_target': {
                'distance_to_target_center': 'distance_target_center_{k}',
                'distance_to_target_mesh': 'distance_target_mesh_{k}',
                'target_mesh_closest_x': 'target_mesh_closest_point_{k}_x',
                'target_mesh_closest_y': 'target_mesh_closest_point_{k}_y',
                'target_mesh_closest_z': 'target_mesh_closest_point_{k}_z',
            },
            'float': {
                'distance_to_scene_mesh': 'mesh_scene_distance',
                'scene_mesh_closest_x': 'mesh_scene_closest_point_x',
                'scene_mesh_closest_y': 'mesh_scene_closest_point_y',
                'scene_mesh_closest_z': 'mesh_scene_closest_point_z',
            },
        },
        'tracking_csv': {
            'float': {
                'bbox_x1': 'bbox_x1',
                'bbox_y1': 'bbox_y1',
                'bbox_x2': 'bbox_x2',
                'bbox_y2': 'bbox_y2',
                'confidence': 'confidence',
                'image_u': 'image_u',
                'image_v': 'image_v',
            },
            'text': {'detection_class': 'detection_class'},
        },
        'boids_2d': {
            'float': {'distance_to_food': 'distance_to_food', 'species': 'species'},
        },
        'boids_2d_rollout': {
            'float': {
                'distance_to_food': 'distance_to_food',
                'prediction_error': 'prediction_error',
                'rollout_acceleration_x': 'rollout_acceleration_x',
                'rollout_acceleration_y': 'rollout_acceleration_y',
                'attn_weight_self': 'attn_weight_self',
                'attn_weight_boid': 'attn_weight_boid',
                'attn_weight_food': 'attn_weight_food',
            },
        },
    }) }}
{%- endmacro %}

{#
  The columns every family's frames model shares, in the order of the observations mart.
#}
{% macro observation_columns() -%}
    {{ return(['observation_id', 'episode_id', 'time_index', 'agent_id', 'agent_type_id',
               'x', 'y', 'z', 'v_x', 'v_y', 'v_z']) }}
{%- endmacro %}

{#
  The observation_id of a row of a family's frames: the 63-bit hash of its natural key
  (episode_id, time_index, agent_type_id, agent_id).
#}
{% macro observation_id() -%}
    {{ tracking.hash_bigint(['episode_id', 'time_index', 'agent_type_id', 'agent_id']) }}
{%- endmacro %}

{#
  The first columns of a family's frames model: observation_id and the natural key.
#}
{% macro observation_key_columns() -%}
    {{ tracking.observation_id() }} as observation_id,
    episode_id,
    time_index,
    agent_id,
    agent_type_id
{%- endmacro %}

{#
  The computed properties (category `computed`): columns of int_computed__kinematics, derived
  from every family's observations.
#}
{% macro computed_properties() -%}
    {{ return(['speed', 'acceleration_x', 'acceleration_y', 'acceleration_z', 'acceleration_magnitude']) }}
{%- endmacro %}

{#
  The properties of one family as {'float': [(property_id, expression), ...], 'text': [...]},
  per-target properties expanded target by target, in the order of source_families().
#}
{% macro family_properties(family) -%}
    {%- set entry = tracking.source_families()[family] -%}
    {%- set floats = [] -%}
    {%- for k in (tracking.boids_3d_target_numbers() if entry.get('per_target') else []) -%}
        {%- for property_id, column in entry['per_target'].items() -%}
            {%- do floats.append((tracking.target_property_id(property_id, k), column | replace('{k}', k | string))) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do floats.extend(entry.get('float', {}).items()) -%}
    {{ return({'float': floats, 'text': entry.get('text', {}).items() | list}) }}
{%- endmacro %}

{#
  `select <columns> from <model of each family> union all ...`: the rows of every family in
  one shape. `model` names the per-family model with `{family}` in it (e.g.
  'stg_{family}__episodes'); with `category_id`, each row also gets its family's category id.
#}
{% macro union_families(model, columns, category_id=false) -%}
    {%- for family in tracking.source_families() %}
select
    {%- if category_id %}
    '{{ family }}' as category_id,
    {%- endif %}
    {{ columns | join(',\n    ') }}
from {{ ref(model | replace('{family}', family)) }}
{% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
