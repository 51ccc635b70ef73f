{{ config(indexes=indexes([{'columns': ['episode_id']}])) }}
{#- Per episode and unordered pair of non-environment agents with a frame in which both have a
    velocity: the velocity columns of int_agent_pair_correlations (which computes them together
    with the distance correlation, in one self-join of the agent-frames). #}
select
    episode_id,
    agent_type_id_a,
    agent_id_a,
    agent_type_id_b,
    agent_id_b,
    num_common_frames,
    velocity_correlation_x,
    velocity_correlation_y,
    velocity_correlation_z,
    heading_alignment,
    num_alignment_frames
from {{ episodes_to_build(ref('int_agent_pair_correlations'), 'pairs') }}
where num_common_frames > 0
