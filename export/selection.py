"""Selecting episodes in the marts: by category, session names, episode ids, agent types and
values of the sessions' config.

Filters combine with AND; the values given to one filter combine with OR. A name the
warehouse does not know, a config key no session has, or a selection that matches nothing
is an `ExportError` saying what the warehouse holds instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from export.errors import ExportError
from export.warehouse import Marts, sql_text

MISSING = object()  # a config path that leads nowhere
SHOWN = 12  # names listed in an error message


@dataclass(frozen=True)
class Episode:
    """One selected episode, as the `episodes` and `sessions` marts describe it."""

    episode_id: int
    session_id: int
    session_name: str
    category_id: str
    episode_number: int
    episode_name: str
    first_frame: int | None  # None: the episode has no observations
    last_frame: int | None
    num_agents: int

    @property
    def num_frames(self) -> int:
        """Frames from the first to the last observed one (gaps included)."""
        return 0 if self.first_frame is None else self.last_frame - self.first_frame + 1


@dataclass(frozen=True)
class Selection:
    """The selected episodes (ordered by category, session name and episode number) and the
    agent types the tensors hold (None: every entity, environment entities included)."""

    target: str
    episodes: tuple[Episode, ...]
    agent_types: tuple[str, ...] | None = None

    def __iter__(self) -> Iterator[Episode]:
        return iter(self.episodes)

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def session_names(self) -> list[str]:
        """The sessions the episodes belong to, in order."""
        return list(dict.fromkeys(e.session_name for e in self.episodes))


def config_value(config: object, path: str) -> object:
    """The value at a dotted path (`A.visual_range`, `simulator.seed.0`) of a config, MISSING
    when the path leads nowhere. A segment indexes a mapping by key, a list by position."""
    node = config
    for key in path.split("."):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif (
            isinstance(node, list)
            and key.lstrip("-").isdigit()
            and -len(node) <= int(key) < len(node)
        ):
            node = node[int(key)]
        else:
            return MISSING
    return node


def parse_config_filter(text: str) -> tuple[str, object]:
    """`KEY=VALUE` of the command line: VALUE is read as JSON (50, 0.5, true, "x", [1, 2]),
    else taken as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ExportError(f"--config {text!r}: expected KEY=VALUE, e.g. A.visual_range=50")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _names(values: Iterable[object]) -> str:
    shown = sorted({str(v) for v in values})
    more = f" and {len(shown) - SHOWN} more" if len(shown) > SHOWN else ""
    return ", ".join(shown[:SHOWN]) + more if shown else "none"


def _check_known(what: str, asked: Iterable[str], known: Iterable[str], hint: str = "") -> None:
    known = set(known)
    unknown = sorted(set(asked) - known)
    if unknown:
        raise ExportError(
            f"unknown {what} {', '.join(map(repr, unknown))}: the warehouse has {_names(known)}"
            + (f" ({hint})" if hint else "")
        )


def _candidates(marts: Marts, category: str | None) -> list[dict]:
    """Every episode with its session's name, category and config (parsed), in order."""
    where = f"where s.category_id = {sql_text(category)}" if category else ""
    rows = marts.table(
        "select e.episode_id, e.session_id, s.session_name, s.category_id, e.episode_number, "
        "e.episode_name, e.first_frame, e.last_frame, e.num_agents, "
        "cast(s.config as varchar) as config "
        "from marts.episodes e join marts.sessions s on s.session_id = e.session_id "
        f"{where} order by s.category_id, s.session_name, e.episode_number, e.episode_id"
    ).to_pylist()
    configs: dict[int, object] = {}
    for row in rows:
        text = row.pop("config")
        if row["session_id"] not in configs:
            configs[row["session_id"]] = json.loads(text) if text is not None else None
        row["config"] = configs[row["session_id"]]
    return rows


def _match_config(rows: list[dict], config: Mapping[str, object]) -> list[dict]:
    """The rows whose session config holds every value asked; a key no session has is an
    error, and so is a value no session has (listing the values found)."""
    for key, wanted in config.items():
        found = [config_value(r["config"], key) for r in rows]
        present = [v for v in found if v is not MISSING]
        if not present:
            raise ExportError(
                f"--config {key}: no selected session's config has that key "
                "(a dotted path into the config JSON, e.g. A.visual_range or simulator.num_agents)"
            )
        kept = [r for r, v in zip(rows, found, strict=True) if v is not MISSING and v == wanted]
        if not kept:
            values = _names(json.dumps(v) for v in present)
            raise ExportError(
                f"--config {key}={json.dumps(wanted)}: no selected session has that value; "
                f"the values found are {values}"
            )
        rows = kept
    return rows


def _with_agent_types(marts: Marts, rows: list[dict], agent_types: Sequence[str]) -> list[dict]:
    """The rows whose episode has an observation of one of the agent types."""
    if not rows:
        return rows
    ids = ", ".join(str(r["episode_id"]) for r in rows)
    types = ", ".join(sql_text(t) for t in agent_types)
    having = marts.table(
        "select distinct episode_id from marts.observations "
        f"where episode_id in ({ids}) and agent_type_id in ({types})"
    )
    keep = set(having.column("episode_id").to_pylist())
    return [r for r in rows if r["episode_id"] in keep]


def _describe(
    category: str | None,
    sessions: Sequence[str],
    episodes: Sequence[int],
    agent_types: Sequence[str],
    config: Mapping[str, object],
) -> str:
    parts = [f"category {category}"] if category else []
    parts += [f"session {s}" for s in sessions] + [f"episode {e}" for e in episodes]
    parts += [f"agent type {t}" for t in agent_types]
    parts += [f"config {k}={json.dumps(v)}" for k, v in config.items()]
    return ", ".join(parts) or "everything"


def select_in(
    marts: Marts,
    category: str | None = None,
    sessions: Sequence[str] = (),
    episodes: Sequence[int] = (),
    agent_types: Sequence[str] = (),
    config: Mapping[str, object] | None = None,
) -> Selection:
    """`select_episodes` on an open connection."""
    config = dict(config or {})
    if category is not None:
        known = marts.table("select category_id from marts.categories").column(0).to_pylist()
        _check_known("category", [category], known)
    if agent_types:
        known = marts.table("select agent_type_id from marts.agent_types").column(0).to_pylist()
        _check_known("agent type", agent_types, known)
    rows = _candidates(marts, category)
    if sessions:
        scope = f"in category {category}" if category else ""
        _check_known("session", sessions, (r["session_name"] for r in rows), scope)
        rows = [r for r in rows if r["session_name"] in set(sessions)]
    if episodes:
        wanted = {int(e) for e in episodes}
        missing = wanted - {r["episode_id"] for r in rows}
        if missing:
            raise ExportError(
                f"no episode with id {', '.join(map(str, sorted(missing)))}"
                + (
                    f" among {_describe(category, sessions, (), (), {})}"
                    if category or sessions
                    else ""
                )
                + " (episode ids are marts.episodes.episode_id)"
            )
        rows = [r for r in rows if r["episode_id"] in wanted]
    rows = _match_config(rows, config) if config else rows
    rows = _with_agent_types(marts, rows, agent_types) if agent_types else rows
    if not rows:
        raise ExportError(
            f"the selection ({_describe(category, sessions, episodes, agent_types, config)}) "
            "holds no episode"
        )
    fields = Episode.__dataclass_fields__
    return Selection(
        target=marts.target,
        episodes=tuple(Episode(**{k: v for k, v in r.items() if k in fields}) for r in rows),
        agent_types=tuple(agent_types) or None,
    )


def select_episodes(
    target: str = "duckdb",
    category: str | None = None,
    sessions: Sequence[str] = (),
    episodes: Sequence[int] = (),
    agent_types: Sequence[str] = (),
    config: Mapping[str, object] | None = None,
) -> Selection:
    """The episodes of the target's warehouse that match every filter given: a category id,
    session names, episode ids, agent types (episodes with an entity of one of them; the
    tensors then hold only those types) and config values ({dotted path: value}, e.g.
    {"A.visual_range": 50}, compared with ==). Raises ExportError when a name is unknown or
    nothing matches."""
    with Marts(target) as marts:
        return select_in(marts, category, sessions, episodes, agent_types, config)
