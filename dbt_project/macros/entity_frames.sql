{#
  An entity's frames: the rows of one (episode, agent type, agent) in frame order, the window
  that per-entity differences (velocities, accelerations, steps) are taken over.
#}
{% macro entity_frames() -%}
    partition by episode_id, agent_type_id, agent_id order by time_index
{%- endmacro %}

{#
  Select-list entries giving each row its entity's previous row, over a window named
  entity_frames (`window entity_frames as ({{ entity_frames() }})`): previous_time_index, and
  previous_<c> for each column c.
#}
{% macro previous_row(columns) -%}
    lag(time_index) over entity_frames as previous_time_index
    {%- for column in columns %},
    lag({{ column }}) over entity_frames as previous_{{ column }}
    {%- endfor %}
{%- endmacro %}
