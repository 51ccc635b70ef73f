{#
  The extended properties each source family measures, as columns of its int_<family>__frames
  view: {'float': [(property_id, expression), ...], 'text': [(property_id, expression), ...]}.
  One list per family, read by the family's EAV view (int_<family>__property_values, through
  unpivot_properties) and by the wide model (observation_properties_wide), so both hold the
  same values by construction.
#}
{% macro family_properties(family) -%}
    {%- if family == 'boids_3d' -%}
        {#- per target k the centre and mesh distances and the mesh closest point, then the
            scene-mesh distance and closest point -#}
        {%- set floats = [] -%}
        {%- for k in boids_3d_target_numbers() -%}
            {%- do floats.append((tracking.target_property_id('distance_to_target_center', k), 'distance_target_center_' ~ k)) -%}
            {%- do floats.append((tracking.target_property_id('distance_to_target_mesh', k), 'distance_target_mesh_' ~ k)) -%}
            {%- for axis in ['x', 'y', 'z'] -%}
                {%- do floats.append((tracking.target_property_id('target_mesh_closest_' ~ axis, k), 'target_mesh_closest_point_' ~ k ~ '_' ~ axis)) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do floats.append(('distance_to_scene_mesh', 'mesh_scene_distance')) -%}
        {%- for axis in ['x', 'y', 'z'] -%}
            {%- do floats.append(('scene_mesh_closest_' ~ axis, 'mesh_scene_closest_point_' ~ axis)) -%}
        {%- endfor -%}
        {{ return({'float': floats, 'text': []}) }}
    {%- elif family == 'tracking_csv' -%}
        {#- the box corners and the detector confidence; the detection class label -#}
        {{ return({
            'float': [
                ('bbox_x1', 'bbox_x1'),
                ('bbox_y1', 'bbox_y1'),
                ('bbox_x2', 'bbox_x2'),
                ('bbox_y2', 'bbox_y2'),
                ('confidence', 'confidence'),
            ],
            'text': [('detection_class', 'detection_class')],
        }) }}
    {%- elif family == 'boids_2d' -%}
        {{ return({'float': [('distance_to_food', 'distance_to_food')], 'text': []}) }}
    {%- elif family == 'computed' -%}
        {#- columns of int_computed__kinematics -#}
        {{ return({
            'float': [
                ('speed', 'speed'),
                ('acceleration_x', 'acceleration_x'),
                ('acceleration_y', 'acceleration_y'),
                ('acceleration_z', 'acceleration_z'),
                ('acceleration_magnitude', 'acceleration_magnitude'),
            ],
            'text': [],
        }) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("unknown property family " ~ family) }}
{%- endmacro %}

{# The EAV rows of a family's properties (see unpivot_properties). #}
{% macro unpivot_family_properties(relation, family) -%}
    {%- set properties = tracking.family_properties(family) -%}
    {{ tracking.unpivot_properties(relation, properties['float'], properties['text']) }}
{%- endmacro %}
