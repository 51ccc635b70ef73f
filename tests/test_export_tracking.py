"""Export of tracking episodes (the hand-written session, both targets): gaps and ended tracks
are masked and hold NaN, never zeros that look like data; the observed values are the CSV's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from export import TrajectoryWindows, select_episodes
from tests.export_helpers import export, load_tensor_files
from tests.samples import HAND, write_hand_session
from tests.warehouse import Warehouse, built_warehouse_fixtures, environment

PLANAR = ["x", "y"]
FILES = ("cam_a/flight_tracks.csv", "cam_a/flight_bboxes.csv")


@pytest.fixture(scope="module")
def hand_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export_tracking")
    write_hand_session(folder)
    return folder


duckdb_built, postgres_built, built = built_warehouse_fixtures("hand_session")


def csv_positions(folder: Path, name: str) -> pd.DataFrame:
    """The file's rows indexed by (frame, track_id): x, y as read, or the box centre."""
    df = pd.read_csv(folder / HAND / name).dropna(how="all")
    if "x1" in df.columns:
        df["x"], df["y"] = (df.x1 + df.x2) / 2, (df.y1 + df.y2) / 2
    return df.astype({"track_id": int, "frame": int}).set_index(["frame", "track_id"])[PLANAR]


def episode_ids(warehouse: Warehouse) -> dict[str, int]:
    return dict(warehouse.query("select episode_name, episode_id from marts.episodes"))


def test_tensor_files_mask_gaps(built: Warehouse, hand_session: Path, tmp_path: Path) -> None:
    assert export(built, "--session", HAND, "--format", "tensors", tmp_path / "out") == 0
    contents = load_tensor_files(tmp_path / "out")
    ids = episode_ids(built)
    for name in FILES:
        content, rows = contents[ids[name]], csv_positions(hand_session, name)
        frames = content["frames"].tolist()
        assert frames == list(range(rows.index.levels[0].min(), rows.index.levels[0].max() + 1))
        tracks = content["agent_id"].tolist()
        assert sorted(tracks) == sorted(set(rows.index.get_level_values("track_id")))
        assert content["feature_names"] == ["x", "y", "v_x", "v_y"]
        mask = content["mask"].numpy()
        positions = content["features"].numpy()[:, :, :2]
        observed = {(f, t) for f, t in rows.index}
        for i, frame in enumerate(frames):
            for j, track in enumerate(tracks):
                if (frame, track) in observed:
                    assert mask[i, j]
                    assert positions[i, j].tolist() == rows.loc[(frame, track)].tolist()
                else:  # a gap, before a track starts, after it ends: masked, NaN
                    assert not mask[i, j]
                    assert np.isnan(content["features"].numpy()[i, j]).all()
        assert not mask.all()  # the file has gaps


def test_windows_skip_frames_nobody_was_seen_in(built: Warehouse, hand_session: Path) -> None:
    ids = episode_ids(built)
    rows = csv_positions(hand_session, FILES[0])
    seen = {f for f, _ in rows.index}
    with environment(built.env):
        selection = select_episodes(built.target, episodes=[ids[FILES[0]]])
        items = list(
            TrajectoryWindows(built.target, selection, window=3, stride=1, features=PLANAR)
        )
    first, last = min(seen), max(seen)
    # windows over the frames, but none that lies wholly in the gap (frames 13..19)
    expected = [s for s in range(first, last - 1) if seen & {s, s + 1, s + 2}]
    assert [int(item["first_frame"]) for item in items] == expected
    for item in items:
        start = int(item["first_frame"])
        for j, track in enumerate(item["agent_id"].tolist()):
            for t in range(3):
                key = (start + t, track)
                if key in rows.index:
                    assert item["mask"][t, j]
                    assert item["features"][t, j].tolist() == rows.loc[key].tolist()
                else:
                    assert not item["mask"][t, j]
                    assert item["features"][t, j].isnan().all()
        # only tracks seen in the window
        assert item["mask"].any(dim=0).all()


def test_targets_identical(
    duckdb_built: Warehouse, postgres_built: Warehouse, tmp_path: Path
) -> None:
    contents = []
    for warehouse in (duckdb_built, postgres_built):
        out = tmp_path / warehouse.target
        args = ("--category", "tracking_csv", "--feature", "x", "--feature", "confidence")
        assert export(warehouse, *args, "--format", "tensors", out) == 0
        contents.append(load_tensor_files(out))
    assert contents[0].keys() == contents[1].keys()
    for episode_id, content in contents[0].items():
        for key, value in content.items():
            other = contents[1][episode_id][key]
            same = (
                value.numpy().tobytes() == other.numpy().tobytes()
                if hasattr(value, "numpy")
                else value == other
            )
            assert same, (episode_id, key)
