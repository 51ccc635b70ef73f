"""The dashboard variables: session, episode(s), agent types and the frame boxes.

The frame boxes are text (empty: the default); hidden query variables turn them into the
numbers the panels filter on (`range_start`, `range_end`, `at_frame`).
"""

from __future__ import annotations

from grafana.generator.builders import Json, query_variable, textbox_variable

SESSION = query_variable(
    "session",
    "Session",
    "select session_name as __text, cast(session_id as text) as __value\n"
    "from marts.sessions\norder by session_name",
    description="A 3D run folder, a 2D dataset file or a tracking session folder.",
)
EPISODES_OF_SESSION = (
    "select episode_name as __text, cast(episode_id as text) as __value\n"
    "from marts.episodes\nwhere session_id = $session\norder by episode_number"
)
EPISODE = query_variable(
    "episode",
    "Episode",
    EPISODES_OF_SESSION,
    description="An episode of the session (3D: a parquet file; 2D: a sample; tracking: a "
    "camera file).",
)
EPISODES = query_variable(
    "episodes",
    "Episodes",
    EPISODES_OF_SESSION,
    multi=True,
    description="The episodes of the session to compare (default: all).",
)
AGENT_TYPE = query_variable(
    "agent_type",
    "Agent type",
    "select distinct o.agent_type_id\n"
    "from marts.observations as o\n"
    "inner join marts.agent_types as t on t.agent_type_id = o.agent_type_id\n"
    "where o.episode_id = $episode and not t.is_environment\norder by 1",
    multi=True,
    description="Filters the panels that show individual agents (their descriptions say "
    "'the chosen agent types'); the per-frame and per-window statistics are over all agents.",
)
FRAME_FROM = textbox_variable(
    "frame_from", "From frame", "First frame shown (empty: the episode's first frame)."
)
FRAME_TO = textbox_variable(
    "frame_to", "To frame", "Last frame shown, inclusive (empty: the episode's last frame)."
)
FRAME = textbox_variable(
    "frame",
    "At frame",
    "The frame of the agent-state panels and the split of the before/after panels (empty: "
    "the middle of the frame range).",
)


def box_number(
    name: str, label: str, box: str, fallback: str, source: str = "", sql_type: str = "bigint"
) -> Json:
    """A hidden variable: the text box `box` as a number (box_value), `fallback` when empty."""
    sql = f"select coalesce({box_value(box, sql_type)}, {fallback})"
    return query_variable(name, label, sql + source, hide=2)


def box_value(box: str, sql_type: str) -> str:
    """The text box `box` cast to `sql_type`, NULL when empty: it reaches SQL only as a quoted
    literal, so any other text than a number fails the cast, never runs."""
    return f"cast(nullif(trim(${{{box}:sqlstring}}), '') as {sql_type})"


EPISODE_ROW = "\nfrom marts.episodes\nwhere episode_id = $episode"
RANGE_START = box_number("range_start", "First frame", "frame_from", "first_frame", EPISODE_ROW)
RANGE_END = box_number("range_end", "Last frame", "frame_to", "last_frame", EPISODE_ROW)
# The comparison dashboard has no single episode: open bounds instead of the episode's.
ANY_RANGE_START = box_number("range_start", "First frame", "frame_from", "0")
ANY_RANGE_END = box_number("range_end", "Last frame", "frame_to", "9223372036854775807")
AT_FRAME = box_number("at_frame", "Chosen frame", "frame", "($range_start + $range_end) / 2")


def episode_variables(*, agent_types: bool, chosen_frame: bool) -> list[Json]:
    """The variables of a dashboard on one episode, in the order Grafana shows and resolves
    them: session, episode, the agent types (if its panels show individual agents), the frame
    boxes (with At frame if it has a chosen frame), then the hidden numbers."""
    return [
        SESSION,
        EPISODE,
        *([AGENT_TYPE] if agent_types else []),
        FRAME_FROM,
        FRAME_TO,
        *([FRAME] if chosen_frame else []),
        RANGE_START,
        RANGE_END,
        *([AT_FRAME] if chosen_frame else []),
    ]
