"""`TrajectoryWindows`: the windows of selected episodes as a PyTorch IterableDataset.

Each DataLoader worker opens its own connection and reads whole episodes, one at a time: the
selection's episodes are dealt to the workers in turn (worker k of n takes episodes k, k + n,
...), so every window is yielded exactly once, and memory is bounded by one episode whatever
the selection's size. Windows are described in export/windows.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from export.episode_arrays import agent_types, feature_columns, read_episode
from export.errors import ExportError
from export.selection import Episode, Selection, select_in
from export.warehouse import Marts
from export.windows import episode_windows

DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


class TrajectoryWindows(IterableDataset):
    """Frame windows `[window, agents, features]` of the selected episodes (see windows.py).

    target: "duckdb" or "postgres"; episodes: a Selection (select_episodes) or episode ids;
    window, stride: frames per window and between window starts (stride defaults to window);
    features: columns of observation_properties_wide (x, y, z, v_x, v_y, v_z, speed, ...);
    max_agents: pad the agent axis to this size (for batching episodes of different sizes);
    dtype: torch.float32 or torch.float64 for the features.
    """

    def __init__(
        self,
        target: str = "duckdb",
        episodes: Selection | Iterable[int] = (),
        window: int = 10,
        stride: int | None = None,
        features: Sequence[str] = ("x", "y"),
        max_agents: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        stride = window if stride is None else stride
        for name, value in (("window", window), ("stride", stride), ("max_agents", max_agents)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ExportError(f"{name} must be a positive integer, got {value!r}")
        if dtype not in DTYPES:
            raise ExportError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        with Marts(target) as marts:
            if isinstance(episodes, Selection):
                self.selection = episodes
            else:
                self.selection = select_in(marts, episodes=[int(e) for e in episodes])
            self.features = feature_columns(marts, list(features))
            self.vocabulary = agent_types(marts)
        self.target, self.window, self.stride = target, window, stride
        self.max_agents, self.dtype = max_agents, dtype

    @property
    def agent_types(self) -> tuple[str, ...]:
        """What the `agent_type` values index: agent_type_id, sorted."""
        return self.vocabulary.ids

    def worker_episodes(self) -> tuple[Episode, ...]:
        """The episodes this process reads: all of them, or its share in a DataLoader worker."""
        info = get_worker_info()
        episodes = self.selection.episodes
        return episodes if info is None else episodes[info.id :: info.num_workers]

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        with Marts(self.target) as marts:
            for episode in self.worker_episodes():
                arrays = read_episode(
                    marts,
                    episode,
                    self.features,
                    self.vocabulary,
                    self.selection.agent_types,
                    DTYPES[self.dtype],
                )
                yield from episode_windows(arrays, self.window, self.stride, self.max_agents)
