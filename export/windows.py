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


def _present(mask: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """bool [windows, entities]: the entity is observed in at least one frame of the window
    (from running counts of the mask, not one window at a time)."""
    counts = np.zeros((mask.shape[0] + 1, mask.shape[1]), dtype=np.int32)
    np.cumsum(mask, axis=0, dtype=np.int32, out=counts[1:])
    return counts[starts + window] > counts[starts]


def episode_windows(
    arrays: EpisodeArrays, window: int, stride: int, max_agents: int | None = None
) -> Iterator[dict[str, torch.Tensor]]:
    """The windows of one episode, in frame order. A window that holds every entity of the
    episode and needs no padding is a view of the episode's arrays (no copy until the
    DataLoader stacks a batch)."""
    starts = np.asarray(window_starts(len(arrays.frames), window, stride), dtype=np.int64)
    if not len(starts):
        return
    present = _present(arrays.mask, starts, window)
    features, mask = torch.from_numpy(arrays.features), torch.from_numpy(arrays.mask)
    frames, agent_id = torch.from_numpy(arrays.frames), torch.from_numpy(arrays.agent_id)
    agent_type = torch.from_numpy(arrays.agent_type)
    episode_id = torch.tensor(arrays.episode.episode_id, dtype=torch.int64)
    whole = present.all(axis=1) if max_agents is None else np.zeros(len(starts), dtype=bool)
    for start, everyone, seen in zip(starts.tolist(), whole.tolist(), present, strict=True):
        if everyone:
            yield {
                "features": features[start : start + window],
                "mask": mask[start : start + window],
                "agent_id": agent_id,
                "agent_type": agent_type,
                "episode_id": episode_id,
                "first_frame": frames[start],
            }
            continue
        keep = np.flatnonzero(seen)
        if not len(keep):
            continue
        window_features = arrays.features[start : start + window][:, keep]
        window_mask = arrays.mask[start : start + window][:, keep]
        ids, types = arrays.agent_id[keep], arrays.agent_type[keep]
        if max_agents is not None:
            if len(keep) > max_agents:
                raise ExportError(
                    f"episode {arrays.episode.episode_id}: the window from frame "
                    f"{arrays.frames[start]} holds {len(keep)} agents, more than "
                    f"max_agents={max_agents}; raise max_agents"
                )
            window_features = _padded(window_features, max_agents, 1, np.nan)
            window_mask = _padded(window_mask, max_agents, 1, False)
            ids, types = _padded(ids, max_agents, 0, PAD), _padded(types, max_agents, 0, PAD)
        yield {
            "features": torch.from_numpy(window_features),
            "mask": torch.from_numpy(window_mask),
            "agent_id": torch.from_numpy(ids),
            "agent_type": torch.from_numpy(types),
            "episode_id": episode_id,
            "first_frame": frames[start],
        }
