"""Tracking CSV sessions land in the marts on both targets exactly as the files hold them; a
refused file leaves the warehouse unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from extract.ids import stable_id
from extract.samples.tracking_csv import SessionSpec, write_session_folder
from tests.samples import GEN_A, GEN_B, HAND, HAND_FILES, HAND_METADATA, generated_files
from tests.source_facts import observation_id, read_tracking_csv
from tests.tracking_queries import episode_id, expected_rows, observations, properties
from tests.warehouse import (
    Warehouse,
    built_warehouse_fixtures,
    duckdb_warehouse,
    marts_identical_test,
)

duckdb_built, postgres_built, built = built_warehouse_fixtures("tracking_sessions")

# The observations of the hand-written session (tests/samples.py: HAND_FILES), worked out by
# hand: (agent_id, time_index) -> (agent type, x, y, z, v_x, v_y, v_z)
HAND_BBOXES = {
    (1, 0): ("bird", 20.0, 30.0, None, None, None, None),
    (1, 1): ("bird", 22.0, 32.0, None, 2.0, 2.0, None),
    (1, 2): ("bird", 25.0, 32.0, None, 3.0, 0.0, None),
    (1, 4): ("bird", 30.0, 34.0, None, None, None, None),
    (1, 5): ("bird", 32.0, 35.0, None, 2.0, 1.0, None),
    (2, 0): ("class_squirrel", 110.25, 105.0, None, None, None, None),
    (2, 1): ("class_squirrel", 111.0, 106.0, None, 0.75, 1.0, None),
    (7, 1): ("agent", 50.0, 55.0, None, None, None, None),
}
HAND_TRACKS = {
    (3, 10): ("agent", 100.0, 200.0, None, None, None, None),
    (3, 11): ("agent", 104.0, 203.0, None, 4.0, 3.0, None),
    (3, 12): ("agent", 109.0, 205.0, None, 5.0, 2.0, None),
    (3, 20): ("agent", 300.0, 50.0, None, None, None, None),
    (3, 21): ("agent", 302.0, 49.0, None, 2.0, -1.0, None),
    (4, 10): ("agent", 50.0, 60.0, None, None, None, None),
}
HAND_CENTROIDS = {
    (1, 0): ("agent", 0.5, 1.0, 1.5, None, None, None),
    (1, 1): ("agent", 0.75, 1.25, 1.0, 0.25, 0.25, -0.5),
    (2, 0): ("agent", 2.0, 2.0, 0.0, None, None, None),
}


# --- content, both targets ----------------------------------------------------------------


def test_hand_session_observations(built: Warehouse) -> None:
    for file, expected in [
        ("cam_a/flight_bboxes.csv", HAND_BBOXES),
        ("cam_a/flight_tracks.csv", HAND_TRACKS),
        ("cam_b/stereo_centroids_3d.csv", HAND_CENTROIDS),
    ]:
        camera, name = file.split("/")
        assert observations(built, episode_id(HAND, camera, name)) == expected, file


def test_hand_session_properties(built: Warehouse) -> None:
    values = properties(built, episode_id(HAND, "cam_a", "flight_bboxes.csv"))
    assert values[(1, 1)] == {
        "bbox_x1": 12.0,
        "bbox_y1": 21.0,
        "bbox_x2": 32.0,
        "bbox_y2": 43.0,
        "confidence": 0.8,
        "detection_class": "Bird",  # the label as written; the type is bird
    }
    assert values[(2, 0)]["detection_class"] == "squirrel"  # no mapping: type class_squirrel
    assert values[(2, 0)]["bbox_x1"] == 100.5
    assert "confidence" not in values[(1, 5)]  # empty cell: no value stored
    assert "detection_class" not in values[(7, 1)]
    assert values[(7, 1)]["confidence"] == 0.0
    assert sum(len(v) for v in values.values()) == 8 * 4 + 7 + 7
    for name in ("flight_tracks.csv", "stereo_centroids_3d.csv"):
        camera = "cam_b" if name.startswith("stereo") else "cam_a"
        assert properties(built, episode_id(HAND, camera, name)) == {}


def test_sessions_config_and_frame_rates(built: Warehouse, tracking_sessions: Path) -> None:
    rows = built.query(
        "select s.session_name, s.category_id, e.frame_rate, count(*) from marts.sessions s "
        "join marts.episodes e using (session_id) group by 1, 2, 3 order by 1"
    )
    assert rows == [
        (GEN_A.folder_name, "tracking_csv", 25.0, 3),  # Metadata.yaml frame_rate
        (GEN_B.folder_name, "tracking_csv", 30.0, 2),  # no Metadata.yaml: the default
        (HAND, "tracking_csv", 12.5, 3),  # Metadata.yaml fps
    ]
    config, metadata = built.query(
        "select cast(config as varchar), cast(metadata as varchar) from marts.sessions "
        f"where session_name = '{HAND}'"
    )[0]
    assert json.loads(config) == HAND_METADATA  # data_sources paths recorded as written
    assert json.loads(metadata) == {
        "source_path": str((tracking_sessions / HAND).resolve()),
        "session_number": 3,
        "started_at": "2025-07-01 00:00:00",
        "has_metadata_file": True,
    }
    assert (
        built.scalar(
            f"select config from marts.sessions where session_name = '{GEN_B.folder_name}'"
        )
        is None
    )
    stated = yaml.safe_load((tracking_sessions / GEN_A.folder_name / "Metadata.yaml").read_text())
    assert json.loads(
        built.scalar(
            "select cast(config as varchar) from marts.sessions "
            f"where session_name = '{GEN_A.folder_name}'"
        )
    ) == json.loads(json.dumps(stated))


def test_episodes_name_their_camera(built: Warehouse, tracking_sessions: Path) -> None:
    rows = built.query(
        "select e.episode_id, e.episode_number, e.episode_name, e.file_name, e.num_frames, "
        "e.num_agents, e.num_observations, e.source_rows, e.category_id, st.camera, st.shape, "
        "st.ignored_columns from marts.episodes e "
        "join staging.stg_tracking_csv__episodes st using (episode_id) "
        f"where e.session_id = {stable_id('tracking_csv', HAND)} order by e.episode_number"
    )
    assert rows == [
        (
            episode_id(HAND, "cam_a", "flight_bboxes.csv"),
            0,
            "cam_a/flight_bboxes.csv",
            "flight_bboxes.csv",
            5,
            3,
            8,
            8,
            "tracking_csv",
            "cam_a",
            "bboxes",
            None,
        ),
        (
            episode_id(HAND, "cam_a", "flight_tracks.csv"),
            1,
            "cam_a/flight_tracks.csv",
            "flight_tracks.csv",
            5,
            2,
            6,
            6,
            "tracking_csv",
            "cam_a",
            "tracks",
            None,
        ),
        (
            episode_id(HAND, "cam_b", "stereo_centroids_3d.csv"),
            2,
            "cam_b/stereo_centroids_3d.csv",
            "stereo_centroids_3d.csv",
            2,
            2,
            3,
            3,
            "tracking_csv",
            "cam_b",
            "centroids_3d",
            "reprojection_error, camera_count",  # extra columns: ignored and listed
        ),
    ]
    assert built.scalar("select count(*) from marts.episodes") == 3 + 2 + 3


@pytest.mark.parametrize("spec", [GEN_A, GEN_B], ids=["A", "B"])
def test_generated_sessions_equal_source(built: Warehouse, tracking_sessions: Path, spec) -> None:
    for shape, path in generated_files(spec, tracking_sessions):
        source = read_tracking_csv(path)
        episode = episode_id(spec.folder_name, path.parent.name, path.name)
        got = observations(built, episode)
        assert len(got) == len(source) > 0, path.name
        assert {k: v[1:] for k, v in got.items()} == expected_rows(shape, source), path.name
        # there are gaps and restarts, so some velocities are NULL beyond each track's first row
        tracks = source.track_id.nunique()
        assert sum(v[4] is None for v in got.values()) > tracks
        values = properties(built, episode)
        if shape != "bboxes":
            assert values == {}
            continue
        assert len(values) == len(source)
        for r in source.to_dict("records"):
            key = (r["track_id"], r["frame"])
            assert values[key] == {
                **{f"bbox_{c}": r[c] for c in ("x1", "y1", "x2", "y2")},
                "confidence": r["confidence"],
                "detection_class": r["class"],
            }
            label = r["class"]
            assert got[key][0] == (
                label if label in ("bird", "rat", "gerbil") else f"class_{label}"
            )


def test_agent_types_and_counts(built: Warehouse, tracking_sessions: Path) -> None:
    total = sum(
        len(read_tracking_csv(p))
        for s in (GEN_A, GEN_B)
        for _, p in generated_files(s, tracking_sessions)
    )
    assert built.scalar("select count(*) from marts.observations") == total + 8 + 6 + 3
    bboxes = pd.concat(
        read_tracking_csv(p)
        for s in (GEN_A, GEN_B)
        for shape, p in generated_files(s, tracking_sessions)
        if shape == "bboxes"
    )
    assert set(bboxes["class"]) == {"bird", "rat", "gerbil", "squirrel"}  # squirrel: no mapping
    expected = bboxes["class"].replace({"squirrel": "class_squirrel"}).value_counts().to_dict()
    expected["bird"] += 5  # hand session: track 1 (bird, Bird)
    expected["class_squirrel"] += 2  # hand session: track 2
    expected["agent"] = total - len(bboxes) + 1 + 6 + 3  # no class: tracks, 3D, track 7
    by_type = dict(built.query("select agent_type_id, count(*) from marts.observations group by 1"))
    assert by_type == expected
    assert built.query(
        "select agent_type_id, agent_type_name, is_environment from marts.agent_types "
        "where agent_type_id like 'class%'"
    ) == [("class_squirrel", "Detector class squirrel", False)]


def test_observation_id_is_documented_hash(built: Warehouse) -> None:
    episode = episode_id(HAND, "cam_a", "flight_bboxes.csv")
    assert built.observation_id(episode, 4, "bird", 1) == observation_id(episode, 4, "bird", 1)


test_marts_identical_on_both_targets = marts_identical_test()


# --- a refused file lands nothing -----------------------------------------------------------


def episode_snapshot(warehouse: Warehouse) -> list[tuple]:
    """Per landed episode: fingerprint, rows and a checksum of its frames."""
    return warehouse.query(
        "select e.episode_id, e.file_sha256, e.num_rows, count(f.episode_id), sum(f.frame), "
        "sum(f.track_id) from raw.tracking_csv_episodes e "
        "left join raw.tracking_csv_frames f using (episode_id) group by 1, 2, 3 order by 1"
    )


def raw_snapshot(warehouse: Warehouse) -> list[tuple]:
    return episode_snapshot(warehouse) + warehouse.query(
        "select * from raw.tracking_csv_sessions order by session_id"
    )


def with_bad_tracks_file(tracking_sessions: Path, parent: Path) -> tuple[Path, str]:
    """A copy of the hand session whose tracks file gained a duplicate row, and the error."""
    copy = parent / HAND
    shutil.copytree(tracking_sessions / HAND, copy)
    bad = copy / "cam_a" / "flight_tracks.csv"
    bad.write_text(HAND_FILES["cam_a/flight_tracks.csv"] + "4,10,1,1\n")
    return copy, f"{bad}: duplicate row at line 8: track_id 4, frame 10 already at line 7"


def test_refused_file_leaves_warehouse_unchanged(
    built: Warehouse, tracking_sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = raw_snapshot(built)
    copy, message = with_bad_tracks_file(tracking_sessions, tmp_path)
    other = write_session_folder(tmp_path / "more", SessionSpec(number=9, num_frames=5))
    assert built.extract(copy, other) == 1  # the valid session in the same run does not land
    assert f"error: {message}" in capsys.readouterr().err
    assert raw_snapshot(built) == before


def test_skip_invalid_keeps_the_landed_episode_whole(
    tracking_sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb_warehouse(tmp_path / "w") as warehouse:
        assert warehouse.extract(tracking_sessions / HAND) == 0
        before = episode_snapshot(warehouse)
        copy, message = with_bad_tracks_file(tracking_sessions, tmp_path / "changed")
        assert warehouse.extract("--skip-invalid", copy) == 1
        assert message in capsys.readouterr().err
        # the other files are unchanged (skipped); the landed version of the refused one
        # stays whole, never partly replaced
        assert episode_snapshot(warehouse) == before
