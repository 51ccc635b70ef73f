{{ config(
    materialized='incremental',
    indexes=indexes([{'columns': ['episode_id']}])
) }}
{#- The computed properties (category `computed`) of every observation with a velocity, stored
    or derived (v_x and v_y not NULL): one row per such observation, one column per property
    (int_property_values puts them in EAV form). Built per episode, like the
    observations.

    speed                   = sqrt(v_x² + v_y² + v_z²), v_z taken as 0 when NULL (2D sources)
    acceleration_<c>        = v_<c>(t) - v_<c>(t - 1): the backward difference of the velocity of
                              the same (episode, agent type, agent). NULL on the first
                              frame of an entity and whenever its previous row with a
                              velocity is not exactly one frame earlier (a gap). acceleration_z
                              also NULL when either z velocity is NULL (2D sources).
    acceleration_magnitude  = sqrt(a_x² + a_y² + a_z²), a_z taken as 0 when both z velocities
                              are NULL; NULL when a_x/a_y are.
    Units: the velocity's unit per frame (3D: scene units/frame, 2D and tracking: pixels/frame;
    acceleration per frame²). -#}
with velocities as (
    select
        observation_id,
        episode_id,
        time_index,
        agent_id,
        agent_type_id,
        v_x,
        v_y,
        v_z
    from {{ episodes_to_build(ref('int_observations')) }}
    where v_x is not null and v_y is not null
),

with_previous as (
    select
        observation_id,
        episode_id,
        time_index,
        v_x,
        v_y,
        v_z,
        {{ previous_row(['v_x', 'v_y', 'v_z']) }}
    from velocities
    window entity_frames as ({{ entity_frames() }})
),

accelerations as (
    select
        observation_id,
        episode_id,
        v_x,
        v_y,
        v_z,
        case when time_index - previous_time_index = 1 then v_x - previous_v_x end
            as acceleration_x,
        case when time_index - previous_time_index = 1 then v_y - previous_v_y end
            as acceleration_y,
        case when time_index - previous_time_index = 1 then v_z - previous_v_z end
            as acceleration_z,
        -- a_z counts as 0 only when neither frame has a z velocity (2D sources)
        time_index - previous_time_index = 1
            and (v_z is null) = (previous_v_z is null) as has_acceleration
    from with_previous
)

select
    observation_id,
    episode_id,
    sqrt(v_x * v_x + v_y * v_y + coalesce(v_z, 0) * coalesce(v_z, 0)) as speed,
    acceleration_x,
    acceleration_y,
    acceleration_z,
    case when has_acceleration then sqrt(
        acceleration_x * acceleration_x
        + acceleration_y * acceleration_y
        + coalesce(acceleration_z, 0) * coalesce(acceleration_z, 0)
    ) end as acceleration_magnitude
from accelerations
