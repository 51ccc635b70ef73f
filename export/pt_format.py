"""2D boids sessions written back as the lab's `.pt` dataset files.

The layout is the one the 2D family reads (docs/sources.md, "2D boids"), as the lab's simulator
writes it: `NAME.pt`, a torch.save pickle of an object of class
`collab_env.sim.boids_gnn_temp.animal_simulation.AnimalTrajectoryDataset` whose state is
`width`, `height`, `sequences`, `species_to_idx` and `N` (a plain list of samples when the
session was landed from one), each sample a tuple (positions: numpy float64 [T, N, 2]
normalised per axis, species: list of N ints), one per episode in episode-number order; and
`NAME_config.pt`, the session's config dict, when it has one. So the file loads through
extract/safe_pickle.py, and with plain `torch.load(weights_only=False)` where the lab's class
is importable.

Positions: the warehouse holds pixels, x * width and y * height in float64, and the file gets
pixel / width and pixel / height. The simulator's positions are float32 pixels divided by the
size in float64, and for those the division gives back the original bits (every one of 14 M
random float32 pixels at seven sizes from 333 to 1920 did; the tests check the round trip bit
for bit). A position that was not such a value may come back one bit off in the last place.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from export.episode_arrays import AgentTypes, feature_columns, read_episode
from export.errors import ExportError
from export.selection import Episode, Selection
from export.warehouse import Marts
from extract.samples.boids_2d import AnimalTrajectoryDataset, save_pt
from extract.sources.boids_2d import CONFIG_SUFFIX

CATEGORY = "boids_2d"
FEATURES = ("x", "y", "species")


def _whole(value: float) -> int | float:
    """A size as the lab's files hold it: an int when it is whole."""
    return int(value) if float(value).is_integer() else value


def _sample(marts: Marts, episode: Episode, vocabulary: AgentTypes, size: tuple) -> tuple:
    """(positions [T, N, 2] normalised, species list) of one episode."""
    arrays = read_episode(marts, episode, FEATURES, vocabulary)
    order = np.argsort(arrays.agent_id, kind="stable")
    values, mask, agents = arrays.features[:, order], arrays.mask[:, order], arrays.agent_id[order]
    where = f"episode {episode.episode_id} ({episode.session_name} {episode.episode_name})"
    if (
        episode.first_frame != 0
        or not mask.all()
        or not np.array_equal(agents, np.arange(len(agents)))
    ):
        raise ExportError(
            f"{where}: not every agent 0..N-1 has a row in every frame from 0, as a 2D sample "
            "must; rebuild the marts with `dbt build`"
        )
    species = values[:, :, 2]
    if np.isnan(species).any():
        raise ExportError(
            f"{where} has no species labels: its marts were built before the `species` "
            "property existed; run `dbt build --full-refresh --select observation_properties_wide+`"
        )
    if (species != species[0]).any():
        raise ExportError(f"{where}: an agent's species label changes between frames")
    positions = values[:, :, :2] / np.asarray(size, dtype=np.float64)
    return positions, [int(label) for label in species[0]]


def _session(marts: Marts, session_id: int) -> tuple[dict, object]:
    """(metadata, config) of a session, parsed."""
    row = marts.table(
        "select cast(metadata as varchar) as metadata, cast(config as varchar) as config "
        f"from marts.sessions where session_id = {int(session_id)}"
    ).to_pylist()[0]
    config = json.loads(row["config"]) if row["config"] is not None else None
    return json.loads(row["metadata"]), config


def _replace(content: object, path: Path) -> None:
    """torch.save content to path through a temporary file beside it: never half written."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        save_pt(content, Path(temporary))
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def write_session(
    marts: Marts, episodes: list[Episode], vocabulary: AgentTypes, path: Path
) -> list[Path]:
    """Write one session's episodes as `path` (and its `_config.pt` beside it); the paths."""
    metadata, config = _session(marts, episodes[0].session_id)
    size = (metadata["width"], metadata["height"])
    sequences = [_sample(marts, episode, vocabulary, size) for episode in episodes]
    if metadata.get("container") == "list":
        content: object = sequences
    else:
        content = AnimalTrajectoryDataset()
        content.__dict__.update(
            width=_whole(size[0]),
            height=_whole(size[1]),
            sequences=sequences,
            species_to_idx=metadata.get("species_to_idx"),
            N=metadata.get("num_agents"),
        )
    written = [path]
    _replace(content, path)
    if config is not None:
        written.append(path.with_name(path.stem + CONFIG_SUFFIX))
        _replace(config, written[-1])
    return written


def check_pt_selection(selection: Selection) -> None:
    """A .pt file holds 2D boids episodes with every agent."""
    other = next((e for e in selection if e.category_id != CATEGORY), None)
    if other is not None:
        raise ExportError(
            f"--format pt writes 2D boids datasets (category {CATEGORY}); episode "
            f"{other.episode_id} of {other.session_name} is {other.category_id}: use --format tensors"
        )
    if selection.agent_types:
        raise ExportError("--format pt writes every agent of a sample: leave out --agent-type")


def write_pt(marts: Marts, selection: Selection, vocabulary: AgentTypes, out: Path) -> list[Path]:
    """Write the selection as `.pt` datasets: `out` itself when it names a `.pt` file (one
    session), else `out/<session name>.pt` per session. The paths written."""
    check_pt_selection(selection)
    try:
        feature_columns(marts, FEATURES)
    except ExportError as exc:
        raise ExportError(
            "the marts have no `species` column: they were built before the species property "
            "existed; run `dbt build` (the new column is filled for episodes built from then on: "
            "`dbt build --full-refresh --select observation_properties_wide+` fills it for all)"
        ) from exc
    sessions: dict[str, list[Episode]] = {}
    for episode in selection:
        sessions.setdefault(episode.session_name, []).append(episode)
    if out.suffix == ".pt":
        if len(sessions) > 1:
            raise ExportError(
                f"{out}: a .pt file holds one session, the selection has {len(sessions)} "
                f"({', '.join(sessions)}); select one, or give a folder"
            )
        targets = {name: out for name in sessions}
    else:
        targets = {name: out / f"{name}.pt" for name in sessions}
    written: list[Path] = []
    for name, episodes in sessions.items():
        targets[name].parent.mkdir(parents=True, exist_ok=True)
        written += write_session(marts, episodes, vocabulary, targets[name])
    return written
