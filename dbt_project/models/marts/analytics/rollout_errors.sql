{{ config(indexes=indexes([{'columns': ['episode_id', 'time_index'], 'unique': true}])) }}
{#- One row per predicted rollout episode and frame: how far the model's prediction is from
    the truth over the agents (not the food agent), from the frames of the predicted episode
    and of its actual counterpart. Position error: prediction_error (pixels). Acceleration
    error: the distance between the predicted and the true acceleration of the agent
    (pixels per frame²). The batch's loss at that frame, as the rollout file states it. -#}
with predicted as (
    select *
    from {{ episodes_to_build(ref('int_boids_2d_rollout__frames'), 'predicted') }}
    where role = 'predicted'
),

truth as (
    select episode_id, time_index, agent_id, rollout_acceleration_x, rollout_acceleration_y
    from {{ ref('int_boids_2d_rollout__frames') }}
    where role = 'actual'
),

agent_errors as (
    select
        predicted.episode_id,
        predicted.counterpart_episode_id as actual_episode_id,
        predicted.session_id,
        predicted.time_index,
        predicted.horizon,
        predicted.prediction_error,
        sqrt(
            (predicted.rollout_acceleration_x - truth.rollout_acceleration_x)
            * (predicted.rollout_acceleration_x - truth.rollout_acceleration_x)
            + (predicted.rollout_acceleration_y - truth.rollout_acceleration_y)
            * (predicted.rollout_acceleration_y - truth.rollout_acceleration_y)
        ) as acceleration_error,
        predicted.attn_weight_self,
        predicted.attn_weight_boid,
        predicted.attn_weight_food,
        predicted.batch_loss
    from predicted
    inner join {{ ref('agent_types') }} as agent_types
        on agent_types.agent_type_id = predicted.agent_type_id
        and not agent_types.is_environment
    left join truth
        on truth.episode_id = predicted.counterpart_episode_id
        and truth.time_index = predicted.time_index
        and truth.agent_id = predicted.agent_id
)

select
    episode_id,
    actual_episode_id,
    session_id,
    time_index,
    horizon,
    count(*) as num_agents,
    avg(prediction_error) as mean_error,
    {{ continuous_percentile('prediction_error', 0.5) }} as median_error,
    max(prediction_error) as max_error,
    avg(acceleration_error) as mean_acceleration_error,
    max(acceleration_error) as max_acceleration_error,
    avg(attn_weight_self) as mean_attn_self,
    avg(attn_weight_boid) as mean_attn_boid,
    avg(attn_weight_food) as mean_attn_food,
    max(batch_loss) as batch_loss
from agent_errors
group by episode_id, actual_episode_id, session_id, time_index, horizon
