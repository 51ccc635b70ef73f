"""From the warehouse back to PyTorch: select episodes in the marts, get tensors out.

    from export import TrajectoryWindows, select_episodes
    episodes = select_episodes(target="duckdb", category="boids_2d",
                               config={"A.visual_range": 50})
    data = TrajectoryWindows(target="duckdb", episodes=episodes, window=10, stride=5,
                             features=["x", "y", "v_x", "v_y", "speed"])
    loader = DataLoader(data, batch_size=32, num_workers=2, collate_fn=collate_windows)

Modules: selection (which episodes), warehouse (arrow reads of the marts), episode_arrays (an
episode as dense arrays), windows and dataset (training windows), batches
(their DataLoader collate), pt_format (2D sessions as
the lab's .pt files), tensor_files (episodes as tensor files with an index), cli
(`python export/run.py`).
"""

from export.batches import collate_windows
from export.dataset import TrajectoryWindows
from export.errors import ExportError
from export.selection import Episode, Selection, select_episodes

__all__ = [
    "Episode",
    "ExportError",
    "Selection",
    "TrajectoryWindows",
    "collate_windows",
    "select_episodes",
]
