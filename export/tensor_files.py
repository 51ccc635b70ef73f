"""Episodes written as tensor files: one file per episode plus an index, in a folder.

`OUTDIR/<episode_id>.pt` (torch.save of a dict; `torch.load(path, weights_only=True)` reads
it, no code runs):

    episode_id, session_name, category_id, episode_number, episode_name   (int / str)
    frames        int64   [T]        frame numbers, first to last observed frame
    features      float64 [T, A, F]  NaN where the entity is absent or the value NULL
    mask          bool    [T, A]     True where the entity was observed in that frame
    agent_id      int64   [A]
    agent_type    int64   [A]        index into `agent_types`
    agent_types   list[str]          the agent_type_id vocabulary (sorted)
    feature_names list[str]          the F columns of observation_properties_wide

Entities are ordered agents first, then environment entities, each by agent type and id.
`OUTDIR/index.json` lists the episodes in selection order, each with its file, ids, names,
first frame, T, A and feature names. Without `features`, each episode gets its positions and
velocities: x, y, z, v_x, v_y, v_z, without z and v_z when the episode has no z (2D sources).

The folder is written whole or not at all: into a temporary folder beside it, renamed at the
end (an existing OUTDIR is replaced only when the caller asks, see cli.py).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from export.episode_arrays import AgentTypes, EpisodeArrays, read_episode
from export.selection import Selection
from export.warehouse import Marts

INDEX = "index.json"
MOTION = ("x", "y", "z", "v_x", "v_y", "v_z")
PLANAR = ("x", "y", "v_x", "v_y")


def planar_unless_z(arrays: EpisodeArrays) -> EpisodeArrays:
    """The episode's MOTION arrays without z and v_z when it has no z value."""
    z = arrays.feature_names.index("z")
    if not np.isnan(arrays.features[:, :, z]).all():
        return arrays
    keep = [arrays.feature_names.index(name) for name in PLANAR]
    return EpisodeArrays(
        **{**vars(arrays), "features": arrays.features[:, :, keep], "feature_names": PLANAR}
    )


def episode_content(arrays: EpisodeArrays, vocabulary: AgentTypes) -> dict[str, object]:
    """The dict saved for one episode (module docstring)."""
    episode = arrays.episode
    return {
        "episode_id": episode.episode_id,
        "session_name": episode.session_name,
        "category_id": episode.category_id,
        "episode_number": episode.episode_number,
        "episode_name": episode.episode_name,
        "frames": torch.from_numpy(arrays.frames),
        "features": torch.from_numpy(arrays.features),
        "mask": torch.from_numpy(arrays.mask),
        "agent_id": torch.from_numpy(arrays.agent_id),
        "agent_type": torch.from_numpy(arrays.agent_type),
        "agent_types": list(vocabulary.ids),
        "feature_names": list(arrays.feature_names),
    }


def write_tensor_files(
    marts: Marts,
    selection: Selection,
    vocabulary: AgentTypes,
    out: Path,
    features: Sequence[str] | None = None,
    replace: bool = False,
) -> list[Path]:
    """Write the selection's episodes into the folder `out` (module docstring); the files."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        index = []
        for episode in selection:
            arrays = read_episode(
                marts, episode, features or MOTION, vocabulary, selection.agent_types
            )
            arrays = arrays if features else planar_unless_z(arrays)
            name = f"{episode.episode_id}.pt"
            torch.save(episode_content(arrays, vocabulary), work / name)
            index.append(
                {
                    "file": name,
                    "episode_id": episode.episode_id,
                    "session_name": episode.session_name,
                    "category_id": episode.category_id,
                    "episode_number": episode.episode_number,
                    "episode_name": episode.episode_name,
                    "first_frame": episode.first_frame,
                    "num_frames": len(arrays.frames),
                    "num_entities": len(arrays.agent_id),
                    "feature_names": list(arrays.feature_names),
                }
            )
        content = {"agent_types": list(vocabulary.ids), "episodes": index}
        (work / INDEX).write_text(json.dumps(content, indent=1) + "\n")
        if replace and out.exists():
            old = out.with_name(f".{out.name}.replaced-{os.getpid()}")
            out.rename(old)
            work.rename(out)
            shutil.rmtree(old)
        else:
            work.rename(out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return [out / row["file"] for row in index] + [out / INDEX]
