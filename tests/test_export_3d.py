"""Export of 3D boids episodes (the session's sample runs, both targets): window values equal
the source parquet's, a DataLoader with two workers yields every window once, the tensor files
and their index, selection, and identical tensors on both targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from export import ExportError, TrajectoryWindows, collate_windows, select_episodes
from tests.export_helpers import export, load_tensor_files
from tests.samples import RUN_A, RUN_B
from tests.warehouse import Warehouse, environment

MOTION = ["x", "y", "z", "v_x", "v_y", "v_z"]
FEATURES = [*MOTION, "distance_to_target_center", "speed"]
WINDOW, STRIDE = 7, 3


def source_frames(warehouse: Warehouse) -> dict[int, pd.DataFrame]:
    """Each 3D episode's parquet file (the path the episodes mart records), by episode id,
    indexed by (time, type, id), with the first target's centre distance under the feature's
    name (the files spell it two ways) and the speed |v| computed here."""
    files = warehouse.query(
        "select episode_id, file_path from marts.episodes where category_id = 'boids_3d'"
    )
    frames = {}
    for episode_id, path in files:
        df = pd.read_parquet(path)
        spelling = next(c for c in df.columns if c.endswith("target_center_1"))
        df["distance_to_target_center"] = df[spelling]
        df["speed"] = np.sqrt(df.v_x**2 + df.v_y**2 + df.v_z**2)
        frames[episode_id] = df.set_index(["time", "type", "id"]).sort_index()
    return frames


def windows(warehouse: Warehouse, **options: object) -> list[dict[str, torch.Tensor]]:
    with environment(warehouse.env):
        return list(TrajectoryWindows(target=warehouse.target, **options))


def test_window_values_equal_the_source_parquet(built: Warehouse) -> None:
    with environment(built.env):
        selection = select_episodes(built.target, category="boids_3d")
    items = windows(
        built,
        episodes=selection,
        window=WINDOW,
        stride=STRIDE,
        features=FEATURES,
        dtype=torch.float64,
    )
    vocabulary = [
        r[0] for r in built.query("select agent_type_id from marts.agent_types order by 1")
    ]
    sources = source_frames(built)
    assert {int(w["episode_id"]) for w in items} == set(sources)
    checked = 0
    for item in items:
        df = sources[int(item["episode_id"])]
        first = int(item["first_frame"])
        names = [vocabulary[t] for t in item["agent_type"].tolist()]
        # agents first, then environment entities, each by id
        assert names == sorted(names, key=lambda n: n == "env")
        keys = [
            (first + t, name, agent)
            for t in range(WINDOW)
            for name, agent in zip(names, item["agent_id"].tolist(), strict=True)
        ]
        expected = df.reindex(keys)[FEATURES].to_numpy().reshape(WINDOW, len(names), -1)
        features = item["features"].numpy()
        assert item["mask"].all()  # a simulation observes every entity in every frame
        # every value (NULL as NaN: env velocities, distances before the target appears)
        assert np.array_equal(features, expected, equal_nan=True)
        window_rows = df.loc[first : first + WINDOW - 1]
        assert len(window_rows) == WINDOW * len(names)  # and no entity left out
        checked += features.size
    assert checked > 0


@pytest.mark.parametrize(("workers", "collate"), [(0, None), (2, None), (2, collate_windows)])
def test_dataloader_yields_every_window_once(built: Warehouse, workers: int, collate) -> None:
    with environment(built.env):
        selection = select_episodes(built.target, category="boids_3d")
        data = TrajectoryWindows(
            built.target, selection, window=WINDOW, stride=STRIDE, features=["x", "speed"]
        )
        loader = torch.utils.data.DataLoader(
            data, batch_size=4, num_workers=workers, collate_fn=collate
        )
        seen = [
            (int(e), int(f))
            for batch in loader
            for e, f in zip(batch["episode_id"], batch["first_frame"], strict=True)
        ]
    expected = []
    for episode_id, df in source_frames(built).items():
        times = df.index.get_level_values("time")
        first, last = int(times.min()), int(times.max())
        expected += [(episode_id, f) for f in range(first, last - WINDOW + 2, STRIDE)]
    assert len(seen) == len(set(seen)) == len(expected)
    assert sorted(seen) == sorted(expected)


def test_collate_windows_equals_torch_default(built: Warehouse) -> None:
    """collate_windows' batches hold the same tensors as torch's default collate (names,
    dtypes, shapes, values with NaN where absent), also made in worker processes; windows of
    different agent counts are refused with what to do."""

    def windows(workers: int, collate) -> dict[tuple[int, int], dict[str, torch.Tensor]]:
        """Each window of the batches, by (episode, first frame)."""
        loader = torch.utils.data.DataLoader(
            data, batch_size=5, num_workers=workers, collate_fn=collate
        )
        return {
            (int(batch["episode_id"][i]), int(batch["first_frame"][i])): {
                name: tensor[i] for name, tensor in batch.items()
            }
            for batch in loader
            for i in range(len(batch["episode_id"]))
        }

    with environment(built.env):
        selection = select_episodes(built.target, category="boids_3d")
        data = TrajectoryWindows(
            built.target, selection, window=WINDOW, stride=STRIDE, features=FEATURES, max_agents=9
        )
        default, packed = windows(0, None), windows(2, collate_windows)
        one_per_run = {  # RUN_A's episodes have 6 agents, RUN_B's 4
            e.session_name: e.episode_id
            for e in select_episodes(built.target, sessions=[RUN_A.folder_name, RUN_B.folder_name])
        }
        first_windows = [
            next(iter(TrajectoryWindows(built.target, [episode], window=WINDOW, features=["x"])))
            for episode in one_per_run.values()
        ]
    assert packed.keys() == default.keys() and len(packed) > 5
    for key, window in packed.items():
        assert window.keys() == default[key].keys()
        for name, tensor in window.items():
            expected = default[key][name]
            assert (tensor.dtype, tensor.shape) == (expected.dtype, expected.shape), name
            assert torch.equal(tensor.isnan(), expected.isnan()), name
            assert torch.equal(tensor.nan_to_num(), expected.nan_to_num()), name
    with pytest.raises(ExportError, match=r"windows of different shapes .*max_agents="):
        collate_windows(first_windows)


def test_selection_filters(built: Warehouse) -> None:
    with environment(built.env):
        by_config = select_episodes(built.target, config={"simulator.num_agents": RUN_A.num_agents})
        assert by_config.session_names == [RUN_A.folder_name]
        assert len(by_config) == RUN_A.num_episodes
        chosen = select_episodes(built.target, episodes=[by_config.episodes[1].episode_id])
        assert [e.episode_number for e in chosen] == [1]
        agents = select_episodes(built.target, sessions=[RUN_B.folder_name], agent_types=["agent"])
        items = list(TrajectoryWindows(built.target, agents, window=30, features=["x"]))
        assert [int(i["first_frame"]) for i in items] == [0]
        assert items[0]["agent_id"].tolist() == list(range(1, RUN_B.num_agents + 1))
        for wrong, message in (
            ({"category": "boids_4d"}, "unknown category 'boids_4d'"),
            ({"agent_types": ["dragon"]}, "unknown agent type 'dragon'"),
            ({"episodes": [42]}, "no episode with id 42"),
            ({"config": {"simulator.nope": 1}}, "no selected session's config has that key"),
            ({"category": "computed"}, "holds no episode"),
        ):
            with pytest.raises(ExportError, match=message):
                select_episodes(built.target, **wrong)
        with pytest.raises(ExportError, match="not a column"):
            TrajectoryWindows(built.target, by_config, features=["x", "wingspan"])
        with pytest.raises(ExportError, match="text column"):
            TrajectoryWindows(built.target, by_config, features=["detection_class"])


def test_tensor_files_identical_on_both_targets(
    duckdb_built: Warehouse, postgres_built: Warehouse, tmp_path: Path
) -> None:
    contents, indexes = [], []
    for warehouse in (duckdb_built, postgres_built):
        out = tmp_path / warehouse.target
        assert export(warehouse, "--category", "boids_3d", "--format", "tensors", out) == 0
        contents.append(load_tensor_files(out))
        indexes.append(json.loads((out / "index.json").read_text()))
    assert indexes[0] == indexes[1]
    duck, pg = contents
    assert set(duck) == set(pg) == {e["episode_id"] for e in indexes[0]["episodes"]}
    sources = source_frames(duckdb_built)
    for episode_id, content in duck.items():
        other = pg[episode_id]
        assert content.keys() == other.keys()
        for key, value in content.items():
            if isinstance(value, torch.Tensor):
                assert value.dtype == other[key].dtype and value.shape == other[key].shape
                assert value.numpy().tobytes() == other[key].numpy().tobytes(), key
            else:
                assert value == other[key], key
        # the layout: positions and velocities of every entity in every frame of the file
        assert content["feature_names"] == MOTION
        df = sources[episode_id]
        frames = sorted(set(df.index.get_level_values("time")))
        assert content["frames"].tolist() == frames
        assert tuple(content["features"].shape) == (len(frames), len(df) // len(frames), 6)
        names = [content["agent_types"][t] for t in content["agent_type"].tolist()]
        keys = [
            (t, n, a)
            for t in frames
            for n, a in zip(names, content["agent_id"].tolist(), strict=True)
        ]
        expected = df.reindex(keys)[MOTION].to_numpy().reshape(content["features"].shape)
        assert np.array_equal(content["features"].numpy(), expected, equal_nan=True)


def test_tensor_output_is_never_overwritten_unasked(
    built: Warehouse, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert export(built, "--session", RUN_B.folder_name, "--format", "tensors", out) == 1
    assert "--force" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep me"
    args = ("--session", RUN_B.folder_name, "--feature", "speed", "--format", "tensors")
    assert export(built, *args, "--force", out) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{e}.pt" for e in load_tensor_files(out)] + ["index.json"]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
