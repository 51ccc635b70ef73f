{{ config(indexes=indexes([{'columns': ['episode_id', 'time_index'], 'unique': true}])) }}
{#- Per episode and frame: statistics over the non-environment agents observed in the frame. #}
with agent_frames as (
    {{ analytics_agent_frames() }}
)

select
    episode_id,
    time_index,
    count(*) as num_agents,
    count(speed) as num_agents_with_speed,
    avg(speed) as mean_speed,
    min(speed) as min_speed,
    max(speed) as max_speed,
    count(distance_to_target) as num_agents_with_target_distance,
    avg(distance_to_target) as mean_distance_to_target,
    min(distance_to_target) as min_distance_to_target,
    max(distance_to_target) as max_distance_to_target,
    avg(x) as centroid_x,
    avg(y) as centroid_y,
    avg(z) as centroid_z
from agent_frames
group by episode_id, time_index
