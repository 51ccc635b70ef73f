{{ config(materialized='view') }}
{#- Extended property values in EAV form: the properties each source family measures
    (source_families(), read from its int_<family>__frames) and the computed properties
    (int_computed__kinematics). NULL values are not stored. -#}
{%- set branches = [] %}
{%- for family in source_families() %}
    {%- set properties = family_properties(family) %}
    {%- if properties['float'] or properties['text'] %}
    {%- do branches.append(unpivot_properties(
        ref('int_' ~ family ~ '__frames'), properties['float'], properties['text'])) %}
    {%- endif %}
{%- endfor %}
{%- set computed = [] %}
{%- for property_id in computed_properties() %}
    {%- do computed.append((property_id, property_id)) %}
{%- endfor %}
{%- do branches.append(unpivot_properties(ref('int_computed__kinematics'), computed)) %}
{{ branches | join('\nunion all\n') }}
