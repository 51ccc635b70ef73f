{#- A table, not per episode: its grain is the rollout session (rebuilt whole from
    rollout_errors, one row per predicted episode and frame, at each build). -#}
{{ config(
    materialized='table',
    indexes=indexes([{'columns': ['session_id', 'horizon'], 'unique': true}]),
) }}
{#- One row per rollout session and horizon (frames since the rollout's first frame): the
    error over the session's trajectories at that horizon, how many exceed the threshold
    (var rollout_error_threshold, pixels), the mean attention split, and, for the session,
    the first horizon at which its mean error exceeds the threshold. -#}
with by_horizon as (
    select
        session_id,
        horizon,
        min(time_index) as time_index,
        count(*) as num_trajectories,
        avg(mean_error) as mean_error,
        {{ continuous_percentile('mean_error', 0.5) }} as median_error,
        max(max_error) as max_error,
        avg(mean_acceleration_error) as mean_acceleration_error,
        avg(batch_loss) as mean_batch_loss,
        sum(case when mean_error > {{ var('rollout_error_threshold') }} then 1 else 0 end)
            as trajectories_over_threshold,
        avg(mean_attn_self) as mean_attn_self,
        avg(mean_attn_boid) as mean_attn_boid,
        avg(mean_attn_food) as mean_attn_food
    from {{ ref('rollout_errors') }}
    group by session_id, horizon
),

sessions as (
    select
        session_id,
        min(case when mean_error > {{ var('rollout_error_threshold') }} then horizon end)
            as frames_until_threshold
    from by_horizon
    group by session_id
)

select
    by_horizon.session_id,
    by_horizon.horizon,
    by_horizon.time_index,
    by_horizon.num_trajectories,
    by_horizon.mean_error,
    by_horizon.median_error,
    by_horizon.max_error,
    by_horizon.mean_acceleration_error,
    by_horizon.mean_batch_loss,
    cast(by_horizon.trajectories_over_threshold as bigint) as trajectories_over_threshold,
    by_horizon.mean_attn_self,
    by_horizon.mean_attn_boid,
    by_horizon.mean_attn_food,
    cast({{ var('rollout_error_threshold') }} as {{ tracking.type_double() }}) as error_threshold,
    sessions.frames_until_threshold
from by_horizon
inner join sessions on sessions.session_id = by_horizon.session_id
