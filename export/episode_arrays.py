"""One episode of `observation_properties_wide` as dense arrays: frames x entities x features,
with a mask of the (frame, entity) pairs that were observed.

The episode's rows are read as arrow batches and placed with numpy; nothing is ordered by the
database. Frames run from the episode's first to its last observed frame (a frame nobody was
observed in is all masked); entities are ordered agents first, then environment entities (the
2D food, 3D targets), each by agent type id and agent id. A value that is absent (the entity
not observed in that frame) or NULL (e.g. a velocity on a track's first frame) is NaN, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from export.errors import ExportError
from export.selection import Episode
from export.warehouse import Marts, sql_text

WIDE = "marts.observation_properties_wide"
# The observations mart holds the same rows with only these values: a narrower row to read
# (half the bytes per row on Postgres) when the features are among them.
OBSERVATIONS = "marts.observations"
OBSERVATION_VALUES = frozenset({"x", "y", "z", "v_x", "v_y", "v_z"})
KEY_COLUMNS = ("observation_id", "episode_id", "time_index", "agent_id", "agent_type_id")
TEXT_TYPES = ("varchar", "text", "character varying")


@dataclass(frozen=True)
class AgentTypes:
    """The agent type vocabulary: `agent_type` tensors index `ids` (sorted agent_type_id)."""

    ids: tuple[str, ...]
    is_environment: np.ndarray  # bool, per id


def agent_types(marts: Marts) -> AgentTypes:
    """The `agent_types` mart as a vocabulary."""
    table = marts.table(
        "select agent_type_id, is_environment from marts.agent_types order by agent_type_id"
    )
    return AgentTypes(
        ids=tuple(table.column("agent_type_id").to_pylist()),
        is_environment=np.asarray(table.column("is_environment").to_pylist(), dtype=bool),
    )


def feature_columns(marts: Marts, features: Sequence[str]) -> tuple[str, ...]:
    """The features, checked: numeric columns of observation_properties_wide, not its keys."""
    if not features:
        raise ExportError("no features: name at least one column of observation_properties_wide")
    rows = marts.table(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'observation_properties_wide'"
    ).to_pylist()
    types = {r["column_name"]: r["data_type"].lower() for r in rows}
    if not types:
        raise ExportError("the warehouse has no marts.observation_properties_wide: run dbt build")
    numeric = [c for c, t in types.items() if c not in KEY_COLUMNS and t not in TEXT_TYPES]
    for name in features:
        if name not in types:
            raise ExportError(
                f"feature {name!r} is not a column of observation_properties_wide; "
                f"its numeric columns are {', '.join(sorted(numeric))}"
            )
        if name in KEY_COLUMNS:
            raise ExportError(
                f"feature {name!r} is a key column: windows carry agent ids, agent types, the "
                "episode and the frames already"
            )
        if types[name] in TEXT_TYPES:
            raise ExportError(f"feature {name!r} is a text column and cannot be a tensor value")
    if len(set(features)) != len(features):
        raise ExportError(f"a feature is named twice: {', '.join(features)}")
    return tuple(features)


@dataclass(frozen=True)
class EpisodeArrays:
    """An episode as dense arrays (see the module docstring)."""

    episode: Episode
    frames: np.ndarray  # int64 [T], the frame numbers
    features: np.ndarray  # float [T, A, F], NaN where absent or NULL
    mask: np.ndarray  # bool [T, A], True where the entity was observed
    agent_id: np.ndarray  # int64 [A]
    agent_type: np.ndarray  # int64 [A], index into AgentTypes.ids
    feature_names: tuple[str, ...]


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def read_episode(
    marts: Marts,
    episode: Episode,
    features: Sequence[str],
    vocabulary: AgentTypes,
    only_types: Sequence[str] | None = None,
    dtype: np.dtype | type = np.float64,
) -> EpisodeArrays:
    """The episode's rows (of `only_types`, if given) as dense arrays of dtype."""
    columns = ", ".join(f'"{name}"' for name in features)
    where = f"episode_id = {int(episode.episode_id)}"
    if only_types:
        where += f" and agent_type_id in ({', '.join(sql_text(t) for t in only_types)})"
    # the type's index in the vocabulary, computed by the database: no text column to fetch
    type_index = " ".join(f"when {sql_text(t)} then {i}" for i, t in enumerate(vocabulary.ids))
    table = marts.table(
        f"select time_index, case agent_type_id {type_index} end as type_index, agent_id, "
        f"{columns} from {OBSERVATIONS if set(features) <= OBSERVATION_VALUES else WIDE} "
        f"where {where}"
    )
    first = episode.first_frame or 0
    frames = np.arange(first, first + episode.num_frames, dtype=np.int64)
    type_index = _column(table, "type_index").astype(np.int64)
    agent = _column(table, "agent_id").astype(np.int64)
    # agents before environment entities, each by type: one sort key for both
    rank = vocabulary.is_environment[type_index] * len(vocabulary.ids) + type_index
    order = np.lexsort((agent, rank))
    agent_sorted, rank_sorted = agent[order], rank[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (agent_sorted[1:] != agent_sorted[:-1]) | (rank_sorted[1:] != rank_sorted[:-1])
    entity = np.empty(len(order), dtype=np.int64)
    entity[order] = np.cumsum(starts) - 1
    num_entities = int(starts.sum())
    cell = (_column(table, "time_index").astype(np.int64) - first) * num_entities + entity
    dense = np.full((len(frames) * num_entities, len(features)), np.nan, dtype=dtype)
    for i, name in enumerate(features):
        dense[cell, i] = pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False)
    mask = np.zeros(len(frames) * num_entities, dtype=bool)
    mask[cell] = True
    return EpisodeArrays(
        episode=episode,
        frames=frames,
        features=dense.reshape(len(frames), num_entities, len(features)),
        mask=mask.reshape(len(frames), num_entities),
        agent_id=agent_sorted[starts],
        agent_type=type_index[order][starts],
        feature_names=tuple(features),
    )
