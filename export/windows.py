"""Fixed-length frame windows of an episode, as the tensors a model trains on.

A window covers `window` consecutive frames starting at the episode's first frame + k x
`stride` (k = 0, 1, ...; a last partial window is not made). It holds the entities observed in
at least one of its frames, in the episode's entity order; a window in which nothing was
observed (a long tracking gap) is skipped. Each window is a dict of tensors:

    features     float [window, agents, features]  NaN where absent or NULL
    mask         bool  [window, agents]            True where the entity was observed
    agent_id     int64 [agents]
    agent_type   int64 [agents]                    index into the dataset's `agent_types`
    episode_id   int64 []
    first_frame  int64 []                          the frame number of the window's first frame

With `max_agents`, the agent axis is padded to that size (mask False, features NaN, agent_id
and agent_type -1), so that windows of different episodes batch together.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from export.episode_arrays import EpisodeArrays
from export.errors import ExportError

PAD = -1  # agent_id and agent_type of padding


def window_starts(num_frames: int, window: int, stride: int) -> range:
    """The start indexes (from the episode's first frame) of the windows of an episode."""
    return range(0, max(num_frames - window + 1, 0), stride)


def _padded(array: np.ndarray, size: int, axis: int, value: object) -> np.ndarray:
    pad = [(0, 0)] * array.ndim
    pad[axis] = (0, size - array.shape[axis])
    return np.pad(array, pad, constant_values=value)


def episode_windows(
    arrays: EpisodeArrays, window: int, stride: int, max_agents: int | None = None
) -> Iterator[dict[str, torch.Tensor]]:
    """The windows of one episode, in frame order."""
    for start in window_starts(len(arrays.frames), window, stride):
        mask = arrays.mask[start : start + window]
        present = mask.any(axis=0)
        if not present.any():
            continue
        features = arrays.features[start : start + window]
        agent_id, agent_type = arrays.agent_id, arrays.agent_type
        if not present.all():
            keep = np.flatnonzero(present)
            features, mask = features[:, keep], mask[:, keep]
            agent_id, agent_type = agent_id[keep], agent_type[keep]
        if max_agents is not None:
            if len(agent_id) > max_agents:
                raise ExportError(
                    f"episode {arrays.episode.episode_id}: the window from frame "
                    f"{arrays.frames[start]} holds {len(agent_id)} agents, more than "
                    f"max_agents={max_agents}; raise max_agents"
                )
            features = _padded(features, max_agents, 1, np.nan)
            mask = _padded(mask, max_agents, 1, False)
            agent_id = _padded(agent_id, max_agents, 0, PAD)
            agent_type = _padded(agent_type, max_agents, 0, PAD)
        yield {
            "features": torch.from_numpy(np.ascontiguousarray(features)),
            "mask": torch.from_numpy(np.ascontiguousarray(mask)),
            "agent_id": torch.from_numpy(agent_id),
            "agent_type": torch.from_numpy(agent_type),
            "episode_id": torch.tensor(arrays.episode.episode_id, dtype=torch.int64),
            "first_frame": torch.tensor(int(arrays.frames[start]), dtype=torch.int64),
        }
