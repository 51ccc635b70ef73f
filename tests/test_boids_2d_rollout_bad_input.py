"""Bad rollout input, on both targets: each refused with a message naming the file and the
problem, nothing of the run landed (not even the valid rollout given with it); and the
loader's rules that need no warehouse (pickle globals, weights, the 2D dataset quirks)."""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from extract.errors import InputFileError
from extract.rollouts import attention, read_rollout
from extract.safe_pickle import is_state_dict, load_pickle_file
from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_2d_rollout import RolloutSpec, rollout_content, write_rollout
from extract.sources import boids_2d, boids_2d_rollout
from tests.warehouse import Warehouse, built_warehouse_fixtures

DATASET = DatasetSpec(name="bad_input_flock", num_samples=3, steps=10, species_counts=(4,), seed=5)
GOOD = RolloutSpec(dataset=DATASET, sample_indices=(0, 1, 2), batch_size=2, frames=5)


@pytest.fixture(scope="module")
def landed_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dataset alone: the rollouts below find it in the warehouse."""
    folder = tmp_path_factory.mktemp("dataset")
    write_dataset(folder, DATASET)
    return folder


duckdb_built, postgres_built, built = built_warehouse_fixtures("landed_dataset")


def snapshot(warehouse: Warehouse) -> dict[str, int]:
    tables = ["raw.landed_files", "raw.episode_loads", "raw.boids_2d_frames"]
    counts = {t: warehouse.scalar(f"select count(*) from {t}") for t in tables}
    rollout_tables = warehouse.scalar(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name like 'boids_2d_rollout%'"
    )
    return {**counts, "rollout tables": rollout_tables}


def write_pickle(path: Path, content: object) -> None:
    with path.open("wb") as out:
        pickle.dump(content, out, protocol=4)


def bad_rollout(folder: Path, number: int, change: object) -> Path:
    """A rollout of GOOD with its number, its content changed by `change` (a function of the
    content, or bytes to write instead); returns its path."""
    spec = replace(GOOD, rollout_number=number)
    path = write_rollout(folder, spec)
    if isinstance(change, bytes):
        path.write_bytes(change)
    elif change is not None:
        content = rollout_content(spec)
        change(content[0][0])
        write_pickle(path, content)
    return path


class Marker:
    """Unpickling this would create a file: it must never happen."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return os.system, (f"touch {self.path}",)


def _set(key: str, frame: int, value: object):
    def change(batch: dict) -> None:
        batch[key][frame] = value

    return change


def _shorter_loss(batch: dict) -> None:
    batch["loss"].pop()


def _edge_beyond(batch: dict) -> None:
    edges, weights = batch["W"][0]
    edges = edges.clone()
    edges[1, 0] = 2 * 4  # B * N: one past the last node of the batch
    batch["W"][0] = (edges, weights)


def _nan_actual(batch: dict) -> None:
    batch["actual"][2] = np.where(np.arange(16).reshape(2, 4, 2) == 5, np.nan, batch["actual"][2])


def _w_not_a_pair(batch: dict) -> None:
    batch["W"][3] = "attention"


def _w_ragged(batch: dict) -> None:
    batch["W"][1] = ([[0, 1], [1]], [0.5, 0.5])


WHOLE = pickle.dumps(rollout_content(GOOD), protocol=4)
CASES = {
    "not a rollout dict": (
        pickle.dumps({"epoch-0": {}}, protocol=4),
        "{rollout}: expected a rollout: {{epoch: {{batch: {{actual, predicted, ...}}}}}} with "
        "integer keys",
    ),
    "W not a pair": (
        _w_not_a_pair,
        "{rollout}: epoch 0, batch 0, frame 3: `W` must be (edge_index, edge_weight)",
    ),
    "W ragged": (
        _w_ragged,
        "{rollout}: epoch 0, batch 0, frame 1: `W` holds non-numeric values (setting an array "
        "element with a sequence",
    ),
    "truncated": (WHOLE[: len(WHOLE) // 2], "{rollout}: not a readable pickle (truncated"),
    "not a pickle": (b"x,y\n1,2\n", "{rollout}: not a readable pickle"),
    "actual vs predicted": (
        _set("predicted", 1, np.zeros((2, 3, 2), np.float32)),
        "{rollout}: epoch 0, batch 0: `predicted` must hold (B, N, 2) arrays of one shape",
    ),
    "loss frames": (
        _shorter_loss,
        "{rollout}: epoch 0, batch 0: the lists disagree in frames: actual 5, predicted 5, "
        "actual_acc 5, predicted_acc 5, loss 4, W 5",
    ),
    "edge beyond B*N": (
        _edge_beyond,
        "{rollout}: epoch 0, batch 0, frame 0: edge_index holds node 8, beyond the batch's "
        "B*N = 2*4 nodes",
    ),
    "NaN in actual": (
        _nan_actual,
        "{rollout}: epoch 0, batch 0: `actual` of trajectory 0, agent 2 at frame 2 is not finite",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_rollout_refused_and_nothing_lands(
    built: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    change, message = CASES[case]
    innocent = bad_rollout(tmp_path, 1, None)
    bad = bad_rollout(tmp_path, 2, change)
    before = snapshot(built)
    assert built.extract(tmp_path) == 1
    assert message.format(rollout=bad) in capsys.readouterr().err
    assert snapshot(built) == before
    assert innocent.is_file()


def test_forbidden_global_refused_before_anything_runs(
    built: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "marker"
    bad = bad_rollout(tmp_path, 2, lambda batch: batch["W"].__setitem__(0, Marker(marker)))
    before = snapshot(built)
    assert built.extract(tmp_path) == 1
    error = capsys.readouterr().err
    assert f"{bad}: refused to load: the pickle references posix.system" in error
    assert not marker.exists() and snapshot(built) == before
    # a spec pickle may hold builtins only
    spec = tmp_path / "numpy_train_spec.pkl"
    write_pickle(spec, {"sigma": np.float64(0.005)})
    with pytest.raises(InputFileError, match=r"references numpy.*builtin values"):
        load_pickle_file(spec, {}, "a spec pickle")


@pytest.mark.parametrize("problem", ["missing", "truncated"])
def test_spec_pickles_missing_or_unreadable(
    built: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    rollout = bad_rollout(tmp_path, 4, None)
    model_spec = rollout.with_name(f"{rollout.stem}_model_spec.pkl")
    train_spec = rollout.with_name(f"{rollout.stem}_train_spec.pkl")
    if problem == "missing":
        model_spec.unlink()
        expected = f"{rollout}: its spec pickle {model_spec.name} is missing"
    else:
        train_spec.write_bytes(train_spec.read_bytes()[:10])
        expected = f"{train_spec}: not a readable pickle"
    before = snapshot(built)
    assert built.extract(rollout) == 1
    assert expected in capsys.readouterr().err
    assert snapshot(built) == before


def test_dataset_neither_landed_nor_beside(
    built: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = replace(GOOD, dataset=replace(DATASET, name="never_landed"))
    rollout = write_rollout(tmp_path, spec)
    assert built.extract(rollout) == 1
    assert (
        f"{rollout}: its source dataset 'never_landed' is neither in the warehouse nor beside it "
        "(load the 2D dataset never_landed.pt first" in capsys.readouterr().err
    )


def test_rollout_alone_finds_its_landed_dataset(built: Warehouse, tmp_path: Path) -> None:
    rollout = bad_rollout(tmp_path, 7, None)
    assert built.extract(rollout) == 0
    assert built.query(
        "select dataset_source, width, height from raw.boids_2d_rollout_sessions "
        f"where session_name = '{rollout.stem}'"
    ) == [("warehouse", 640.0, 480.0)]
    assert built.query(
        "select dataset_sample from raw.boids_2d_rollout_episodes where role = 'actual' "
        "and session_id = (select session_id from raw.boids_2d_rollout_sessions "
        f"where session_name = '{rollout.stem}') order by episode_number"
    ) == [(0,), (1,), (2,)]


# --- no warehouse -----------------------------------------------------------------------


def test_stack_global_with_a_computed_name_refused(tmp_path: Path) -> None:
    # STACK_GLOBAL taking its module from a list, not a literal string
    path = tmp_path / "computed.pkl"
    path.write_bytes(b"\x80\x04]\x94\x8c\x06system\x94\x93.")
    with pytest.raises(InputFileError, match="looks up a global by a name it computes"):
        load_pickle_file(path, {}, "a test")


def test_weights_are_not_datasets(tmp_path: Path) -> None:
    rollout = write_rollout(tmp_path, GOOD)
    weights = rollout.with_suffix(".pt")
    assert is_state_dict(weights) and boids_2d.find(weights) == []
    assert boids_2d_rollout.skip(weights).startswith("model weights")
    torch.save({"layer.weight": torch.zeros(2, 2)}, tmp_path / "plain_dict.pt")
    assert is_state_dict(tmp_path / "plain_dict.pt")
    dataset = write_dataset(tmp_path, DATASET)
    assert not is_state_dict(dataset) and boids_2d.find(dataset) != []
    assert boids_2d_rollout.find(rollout.with_name(f"{rollout.stem}_model_spec.pkl")) == []


def test_models_without_weights_give_no_attention(tmp_path: Path) -> None:
    rollout = write_rollout(tmp_path, replace(GOOD, weights=False))
    batch = read_rollout(rollout)[0]
    assert attention(rollout, batch, 0, food_agent=False) is None


def test_the_two_real_dataset_quirks(tmp_path: Path) -> None:
    spec = replace(
        DATASET,
        name="quirks",
        food=(100.0, 50.0),
        food_agent=False,
        class_module="animal_simulation",
    )
    dataset = boids_2d.read_dataset(write_dataset(tmp_path, spec), tmp_path / "quirks_config.pt")
    assert dataset.container == "AnimalTrajectoryDataset"
    assert (dataset.food, dataset.food_agent) == ((100.0, 50.0), False)
    assert dataset.positions[0].shape == (10, 4, 2)  # all four are boids
