"""Dashboard "Model rollouts": a GNN rollout's predictions beside the truth (rollout_errors,
rollout_summary, and the observations and attention of a chosen trajectory). The session is
a rollout, the episode a predicted trajectory (its actual counterpart is found through
episodes.counterpart_episode_id), so the links to the other dashboards open that trajectory."""

from __future__ import annotations

from grafana.generator.builders import Json, query_variable, table, trend, xychart
from grafana.generator.sql import columns

ROLLOUT = query_variable(
    "session",
    "Rollout",
    "select session_name as __text, cast(session_id as text) as __value\n"
    "from marts.sessions\nwhere category_id = 'boids_2d_rollout'\norder by session_name",
    description="A rollout file (category boids_2d_rollout).",
)
TRAJECTORY = query_variable(
    "episode",
    "Trajectory",
    "select replace(episode_name, '-predicted', '') as __text, "
    "cast(episode_id as text) as __value\n"
    "from marts.episodes\nwhere session_id = $session and role = 'predicted'\n"
    "order by episode_number",
    description="A trajectory of the rollout, `e<epoch>-b<batch>-t<index in batch>` (its "
    "predicted episode).",
)
AGENT = query_variable(
    "agent",
    "Agent",
    "select distinct o.agent_id\n"
    "from marts.observations as o\n"
    "inner join marts.agent_types as t on t.agent_type_id = o.agent_type_id\n"
    "where o.episode_id = $episode and not t.is_environment\norder by 1",
    description="The agent whose attention is shown.",
)
VARIABLES = [ROLLOUT, TRAJECTORY, AGENT]


def per_frame_trend(
    title: str, description: str, mart: str, where: str, series: tuple[str, ...], unit: str
) -> Json:
    """A line per column of `series` of the `mart` rows `where` selects, by frame."""
    return trend(
        title,
        description,
        f"""select
    {columns("time_index as frame", *series)}
from marts.{mart}
where {where}
order by frame""",
        unit,
    )


ERRORS = ("mean_error", "median_error", "max_error")
BOTH_EPISODES = """o.episode_id in (
    $episode,
    (select counterpart_episode_id from marts.episodes where episode_id = $episode)
)"""

PANELS: list[Json] = [
    xychart(
        "Actual and predicted paths",
        "observations: the positions of every agent (not the food) of the trajectory over its "
        "frames, pixels: actual (green, the dataset) and predicted (red, the model). A "
        "diverging model can leave the scene by orders of magnitude.",
        f"""select
    o.x as px,
    o.y as py,
    case when e.role = 'predicted' then 1 else 0 end as predicted
from marts.observations as o
inner join marts.episodes as e on e.episode_id = o.episode_id
inner join marts.agent_types as t on t.agent_type_id = o.agent_type_id
where {BOTH_EPISODES} and not t.is_environment
order by predicted, o.agent_id, o.time_index""",
        x="px",
        y="py",
        color="predicted",
        axis_label="y (pixels)",
    ),
    per_frame_trend(
        "Error growth: this trajectory",
        "rollout_errors: distance between predicted and actual position over the agents "
        "(mean, median, max) per frame, pixels.",
        "rollout_errors",
        "episode_id = $episode",
        ERRORS,
        "pixels",
    ),
    per_frame_trend(
        "Error growth: the whole rollout",
        "rollout_summary: mean and median over the rollout's trajectories of their mean "
        "position error, and the largest error of any agent, per frame, pixels.",
        "rollout_summary",
        "session_id = $session",
        ERRORS,
        "pixels",
    ),
    per_frame_trend(
        "Attention of the chosen agent",
        "observation_properties_wide: what the chosen agent attends to in the predicted "
        "trajectory, mean over heads: itself (0 without self loops), the other boids (sum), "
        "the food (only with a food agent). An agent with no neighbour in range has none.",
        "observation_properties_wide",
        "episode_id = $episode and agent_id = $agent and agent_type_id = 'agent'",
        ("attn_weight_self", "attn_weight_boid", "attn_weight_food"),
        "attention weight",
    ),
    trend(
        "Loss",
        "rollout_errors and rollout_summary: the loss of the trajectory's batch at each frame "
        "(MSE of the predicted acceleration over the batch, as the rollout file states it) "
        "and its mean over the rollout's trajectories.",
        """select
    r.time_index as frame,
    r.batch_loss as "this trajectory's batch",
    s.mean_batch_loss as "rollout mean"
from marts.rollout_errors as r
inner join marts.rollout_summary as s on s.session_id = r.session_id and s.horizon = r.horizon
where r.episode_id = $episode
order by frame""",
        "loss",
    ),
    per_frame_trend(
        "Attention split over the rollout",
        "rollout_summary: mean attention of the agents to themselves, to the other boids and "
        "to the food, over the rollout's trajectories, per frame.",
        "rollout_summary",
        "session_id = $session",
        ("mean_attn_self", "mean_attn_boid", "mean_attn_food"),
        "attention weight",
    ),
    table(
        "Trajectories",
        "rollout_errors per predicted trajectory: frames, mean and largest position error, "
        "the error at its last frame (pixels), and the dataset sample it was matched to.",
        """select
    replace(e.episode_name, '-predicted', '') as "trajectory",
    count(*) as "frames",
    avg(r.mean_error) as "mean error",
    max(r.max_error) as "max error",
    max(case when r.time_index = e.last_frame then r.mean_error end) as "error at last frame",
    d.episode_name as "dataset sample"
from marts.rollout_errors as r
inner join marts.episodes as e on e.episode_id = r.episode_id
left join marts.episodes as d on d.episode_id = e.derived_from_episode_id
where r.session_id = $session
group by e.episode_number, e.episode_name, d.episode_name
order by e.episode_number""",
        w=24,
        h=8,
    ),
]
