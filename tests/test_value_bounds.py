"""Finite but huge values (issue #20, item 11): beyond MAX_MAGNITUDE (1e15) a position,
velocity or measurement of any family is refused at the door, naming file, row and column; a
diverging model's predictions keep the frames before they leave the bound; values at the
bound build on both targets (the marts' squares of differences stay finite)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import torch

from extract.cli import main as extract_main
from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_2d_rollout import RolloutSpec, rollout_content, write_rollout
from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.sources.boids_2d_rollout import RolloutFile
from extract.value_bounds import MAX_MAGNITUDE, RANGE_HINT, RANGE_TEXT
from tests.source_facts import episode_files
from tests.warehouse import Warehouse

RUN = RunSpec(num_episodes=1, num_frames=6, num_agents=3, num_targets=1, seed=4, prefix="huge")
HUGE = 1e300
SUFFIX = f", {RANGE_TEXT} ({RANGE_HINT})"


def _set_cell(path: Path, column: str, row: int, value: float) -> None:
    """Write `value` at one row of a parquet column (list columns: at the first component)."""
    table = pq.read_table(path)
    cells = table.column(column).to_pylist()
    cells[row] = [value, *cells[row][1:]] if isinstance(cells[row], list) else value
    index = table.schema.get_field_index(column)
    pq.write_table(
        table.set_column(index, column, pa.array(cells, table.schema.field(column).type)), path
    )


def _first_agent_row_with(path: Path, column: str) -> int:
    valid = pc.is_valid(pq.read_table(path).column(column)).to_numpy(zero_copy_only=False)
    return int(np.flatnonzero(valid)[0])


def _3d(column: str, named: str | None = None) -> Callable[[Path], tuple[Path, str]]:
    def case(data: Path) -> tuple[Path, str]:
        (episode,) = episode_files(write_run_folder(data, RUN))
        row = _first_agent_row_with(episode, column)
        _set_cell(episode, column, row, -HUGE)
        return episode, f"column {named or column!r} is {-HUGE} at row {row}"

    return case


def _tracking(name: str, text: str, column: str) -> Callable[[Path], tuple[Path, str]]:
    """A tracking file holding `text`, whose line 3 holds 2e15 in `column`."""

    def case(data: Path) -> tuple[Path, str]:
        camera = data / "2025_02_02-session_0001" / "cam"
        camera.mkdir(parents=True)
        (camera / name).write_text(text)
        return camera / name, f"column {column!r} is {2e15} at line 3"

    return case


def _2d_positions(data: Path) -> tuple[Path, str]:
    positions = np.full((3, 2, 2), 0.5)
    positions[2, 1, 1] = 1e13  # normalised: 4.8e15 pixels at the default 480
    torch.save([(positions, [0, 0])], data / "far.pt")
    return data / "far.pt", f"sample 0: position at frame 2, agent 1 is {1e13 * 480} pixels in y"


def _2d_food(data: Path) -> tuple[Path, str]:
    torch.save([(np.full((3, 2, 2), 0.5), [0, 0])], data / "feast.pt")
    torch.save({"A": {"food": {"x": HUGE, "y": 5.0, "counts": 1}}}, data / "feast_config.pt")
    return data / "feast_config.pt", f"the food position ({HUGE}, 5.0) is {RANGE_TEXT}"


ROLLOUT = RolloutSpec(
    dataset=DatasetSpec(name="bounds_flock", num_samples=2, steps=10, species_counts=(3,), seed=6),
    sample_indices=(0, 1),
    batch_size=2,
    frames=5,
)


def _rollout(data: Path, change: Callable[[dict], None]) -> Path:
    """ROLLOUT and its dataset under data, its first batch changed by `change`."""
    write_dataset(data, ROLLOUT.dataset)
    path = write_rollout(data / "trained_models", ROLLOUT)
    content = rollout_content(ROLLOUT)
    change(content[0][0])
    with path.open("wb") as out:
        pickle.dump(content, out, protocol=4)
    return path


def _rollout_truth(data: Path) -> tuple[Path, str]:
    def change(batch: dict) -> None:
        batch["actual"][3][1, 2, 0] = 1e13  # x 640 pixels

    path = _rollout(data, change)
    return path, "epoch 0, batch 0: `actual` of trajectory 1, agent 2 at frame 3 is " + RANGE_TEXT


CASES = {
    "3D position": _3d("x"),
    "3D velocity": _3d("v_y"),
    "3D distance": _3d("distance_target_center_1"),
    "3D closest point": _3d("target_mesh_closest_point_1", "target_mesh_closest_point_1[0]"),
    "tracking position": _tracking(
        "a_tracks.csv", "track_id,frame,x,y\n1,0,1,5\n1,1,2e15,5\n", "x"
    ),
    "tracking box": _tracking(
        "a_bboxes.csv", "track_id,frame,x1,y1,x2,y2\n2,0,0,0,1,1\n2,1,0,0,2e15,1\n", "x2"
    ),
    "2D position in pixels": _2d_positions,
    "2D food point": _2d_food,
    "rollout truth in pixels": _rollout_truth,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_huge_values_refused_naming_file_row_column(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKING_DUCKDB_PATH", str(tmp_path / "none.duckdb"))
    (tmp_path / "data").mkdir()
    path, problem = CASES[case](tmp_path / "data")
    assert extract_main(["--check", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert f"error: {path}: {problem}" in err
    assert RANGE_TEXT in err


def test_diverging_prediction_keeps_the_frames_within_the_bound(tmp_path: Path) -> None:
    """About 1e7 pixels is data; beyond 1e15 (finite) the model has diverged: the predicted
    episode keeps the frames before, as for NaN; a huge predicted acceleration is no value."""
    width = ROLLOUT.dataset.width

    def change(batch: dict) -> None:
        batch["predicted"][2][0] = np.full((3, 2), 1.5e7 / width, np.float32)
        for frame in (3, 4):
            batch["predicted"][frame][0] = np.full((3, 2), 1e14, np.float32)
        batch["predicted_acc"][1][1, 0, 0] = 1e20

    path = _rollout(tmp_path, change)
    session = RolloutFile(path, dataset_files={ROLLOUT.dataset.name: tmp_path / "bounds_flock.pt"})
    rows = session.read_episode(path)
    predicted = rows.episodes.filter(pc.equal(rows.episodes["role"], "predicted")).to_pylist()
    assert [e["num_frames"] for e in predicted] == [3, ROLLOUT.frames]
    assert predicted[0]["first_non_finite_frame"] == 3 + ROLLOUT.start_frame
    frames = rows.frames.filter(pc.equal(rows.frames["episode_id"], predicted[0]["episode_id"]))
    assert frames.num_rows == 3 * 3
    assert pc.max(frames["x"]).as_py() == pytest.approx(1.5e7, rel=1e-6)
    second = rows.frames.filter(pc.equal(rows.frames["episode_id"], predicted[1]["episode_id"]))
    acc_x = second.filter(pc.equal(second["t"], 1 + ROLLOUT.start_frame))["acc_x"].to_pylist()
    assert acc_x[0] is None and all(v is not None for v in acc_x[1:])


def _at_the_bound(data: Path) -> None:
    """A 3D run whose positions, velocities and distances reach the bound, and a tracking
    file whose positions do, with differences of twice the bound between frames."""
    (episode,) = episode_files(write_run_folder(data, RUN))
    table = pq.read_table(episode)
    sign = np.where((table.column("time").to_numpy() + table.column("id").to_numpy()) % 2, 1, -1)
    for name in ("x", "z", "v_x", "v_z"):
        values = np.where(
            pc.is_valid(table.column(name)).to_numpy(zero_copy_only=False), 1.0, np.nan
        )
        column = pa.array(values * sign * MAX_MAGNITUDE, from_pandas=True)
        table = table.set_column(table.schema.get_field_index(name), name, column)
    pq.write_table(table, episode)
    camera = data / "2025_02_03-session_0001" / "cam"
    camera.mkdir(parents=True)
    rows = [
        f"{t},{f},{(-1) ** (f + t) * MAX_MAGNITUDE},{MAX_MAGNITUDE}"
        for t in (1, 2)
        for f in range(4)
    ]
    (camera / "a_tracks.csv").write_text("track_id,frame,x,y\n" + "\n".join(rows) + "\n")


def test_values_at_the_bound_build(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    _at_the_bound(tmp_path / "data")
    empty_warehouse.build(tmp_path / "data")
    # speeds of velocities (1e15, v_y, 1e15) and of derived ones (2e15, 0): finite, as computed
    speeds = empty_warehouse.query(
        "select o.episode_id, max(p.value_float) from marts.extended_properties p "
        "join marts.observations o using (observation_id) where p.property_id = 'speed' "
        "group by 1 order by 2"
    )
    assert len(speeds) == 2
    assert speeds[0][1] == pytest.approx(np.sqrt(2) * MAX_MAGNITUDE, rel=1e-3)
    assert speeds[1][1] == pytest.approx(2 * MAX_MAGNITUDE, rel=1e-12)
    bins = empty_warehouse.scalar("select max(abs(bin_x)) from marts.spatial_occupancy")
    assert bins == MAX_MAGNITUDE / 10  # the default bin size, 10 (3D)
