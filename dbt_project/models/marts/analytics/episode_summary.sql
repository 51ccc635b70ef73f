{{ config(indexes=indexes([{'columns': ['episode_id'], 'unique': true}])) }}
{#- One row per episode: duration, path lengths, speed, and when the agents reach the target.
    An agent reaches the target at the first frame where its distance to the nearest target
    (distance_to_target of the agent frames) is at most var target_reach_distance (per
    category). Path length: the sum of the distances between an agent's positions in
    consecutive frames (a gap in its frames is not bridged). #}
with episodes as (
    select
        episode_id,
        category_id,
        num_frames,
        first_frame,
        last_frame,
        frame_rate,
        {{ category_setting('target_reach_distance', 'category_id') }} as reach_distance
    from {{ episodes_to_build(ref('episodes')) }}
),

agent_frames as (
    {{ analytics_agent_frames() }}
),

with_previous as (
    select
        episode_id,
        agent_type_id,
        agent_id,
        time_index,
        x,
        y,
        z,
        distance_to_target,
        {{ previous_row(['x', 'y', 'z']) }}
    from agent_frames
    window entity_frames as ({{ entity_frames() }})
),

steps as (
    select
        episode_id,
        agent_type_id,
        agent_id,
        time_index,
        distance_to_target,
        case when time_index - previous_time_index = 1
            then {{ position_distance('', 'previous_') }}
        end as step_length
    from with_previous
),

agents as (
    select
        steps.episode_id,
        steps.agent_type_id,
        steps.agent_id,
        coalesce(sum(steps.step_length), 0) as path_length,
        min(case when steps.distance_to_target <= episodes.reach_distance then steps.time_index end)
            as reach_frame
    from steps
    inner join episodes on episodes.episode_id = steps.episode_id
    group by steps.episode_id, steps.agent_type_id, steps.agent_id
),

per_episode_agents as (
    select
        episode_id,
        count(*) as num_agents,
        sum(path_length) as total_path_length,
        avg(path_length) as mean_path_length,
        count(reach_frame) as num_agents_reached,
        min(reach_frame) as first_reach_frame,
        case when count(reach_frame) = count(*) then max(reach_frame) end as all_reached_frame
    from agents
    group by episode_id
),

per_episode_speeds as (
    select
        episode_id,
        avg(speed) as mean_speed,
        max(speed) as max_speed
    from agent_frames
    group by episode_id
)

select
    episodes.episode_id,
    episodes.category_id,
    episodes.num_frames,
    episodes.first_frame,
    episodes.last_frame,
    episodes.last_frame - episodes.first_frame as duration_frames,
    episodes.frame_rate,
    (episodes.last_frame - episodes.first_frame) / episodes.frame_rate as duration_seconds,
    coalesce(per_episode_agents.num_agents, 0) as num_agents,
    per_episode_agents.total_path_length,
    per_episode_agents.mean_path_length,
    per_episode_speeds.mean_speed,
    per_episode_speeds.max_speed,
    episodes.reach_distance,
    coalesce(per_episode_agents.num_agents_reached, 0) as num_agents_reached,
    per_episode_agents.first_reach_frame,
    per_episode_agents.first_reach_frame - episodes.first_frame as time_to_first_reach_frames,
    (per_episode_agents.first_reach_frame - episodes.first_frame) / episodes.frame_rate
        as time_to_first_reach_seconds,
    per_episode_agents.all_reached_frame,
    per_episode_agents.all_reached_frame - episodes.first_frame as time_to_all_reached_frames,
    (per_episode_agents.all_reached_frame - episodes.first_frame) / episodes.frame_rate
        as time_to_all_reached_seconds
from episodes
left join per_episode_agents on per_episode_agents.episode_id = episodes.episode_id
left join per_episode_speeds on per_episode_speeds.episode_id = episodes.episode_id
