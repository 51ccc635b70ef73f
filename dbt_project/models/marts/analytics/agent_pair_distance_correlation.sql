{{ config(indexes=indexes([{'columns': ['episode_id']}])) }}
{#- Per episode and unordered pair of non-environment agents with a frame in which both have a
    distance to the nearest target: the distance columns of int_agent_pair_correlations (which
    computes them together with the velocity correlations, in one self-join of the
    agent-frames). The explore dashboard reads it for its whole-episode view and computes other
    frame ranges at query time. #}
select
    episode_id,
    agent_type_id_a,
    agent_id_a,
    agent_type_id_b,
    agent_id_b,
    num_shared_frames,
    distance_correlation
from {{ episodes_to_build(ref('int_agent_pair_correlations'), 'pairs') }}
where num_shared_frames > 0
