"""Tracking sessions as the lab's pipeline writes them land in the marts on both targets: twins
once, class ids through the ref_detection_classes seed (an unmapped id as a type of its own),
3D rows without a world point counted but not observed, 3D boxes, confidence, class and image
point as properties, empty tracker runs as episodes without observations, and each rgb
episode linked to the thermal tracks it derives from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from extract.ids import stable_id
from tests.samples import (
    HAND_PIPELINE,
    HAND_PIPELINE_FILES,
    PIPELINE_A,
    PIPELINE_B,
    pipeline_files,
    write_pipeline_sessions,
)
from tests.source_facts import read_tracking_csv
from tests.tracking_queries import episode_id, expected_rows, observations, properties
from tests.warehouse import Warehouse, built_warehouse_fixtures, marts_identical_test


@pytest.fixture(scope="module")
def pipeline_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the hand-written pipeline session and PIPELINE_A, PIPELINE_B."""
    return write_pipeline_sessions(tmp_path_factory.mktemp("pipeline"))


duckdb_built, postgres_built, built = built_warehouse_fixtures("pipeline_sessions")


def hand(camera: str, file_name: str) -> int:
    return episode_id(HAND_PIPELINE, camera, file_name)


# The observations of HAND_PIPELINE (tests/samples.py), worked out by hand:
# (agent_id, time_index) -> (agent type, x, y, z, v_x, v_y, v_z)
HAND_OBSERVATIONS = {
    # float track ids, rows not sorted by frame; no class: the generic type
    ("thermal_1", "thermal_1_tracks.csv"): {
        (1, 1): ("agent", 10.0, 20.0, None, None, None, None),
        (1, 2): ("agent", 11.0, 22.0, None, 1.0, 2.0, None),
        (1, 3): ("agent", 13.0, 23.0, None, 2.0, 1.0, None),
        (2, 0): ("agent", 48.0, 59.0, None, None, None, None),
        (2, 1): ("agent", 50.0, 60.0, None, 2.0, 1.0, None),
    },
    # class 0 is a bird (the seed); class 7 maps to nothing: class_7
    ("rgb_1", "rgb_1_tracked_bboxes.csv"): {
        (1, 1): ("bird", 20.0, 30.0, None, None, None, None),
        (1, 2): ("bird", 22.0, 30.0, None, 2.0, 0.0, None),
        (1, 3): ("bird", 24.0, 32.0, None, 2.0, 2.0, None),
        (2, 0): ("bird", 110.0, 105.0, None, None, None, None),
        (2, 1): ("bird", 112.0, 105.0, None, 2.0, 0.0, None),
        (3, 1): ("class_7", 205.0, 210.0, None, None, None, None),
    },
    # the world point; frame 2 of track 1 has none, so frame 3 follows a gap
    ("rgb_1", "rgb_1_tracked_centroids_3d.csv"): {
        (1, 1): ("bird", 0.5, 1.0, 1.5, None, None, None),
        (1, 3): ("bird", 0.75, 1.25, 1.0, None, None, None),
        (2, 1): ("bird", 2.0, 2.0, 0.0, None, None, None),
    },
    ("rgb_2", "a_bboxes.csv"): {(5, 0): ("agent", 1.0, 1.0, None, None, None, None)},
    ("rgb_2", "b_bboxes.csv"): {(5, 0): ("agent", 2.0, 2.0, None, None, None, None)},
    ("thermal_2", "thermal_2_tracks.csv"): {},
}


def test_hand_pipeline_observations(built: Warehouse) -> None:
    for (camera, name), expected in HAND_OBSERVATIONS.items():
        assert observations(built, hand(camera, name)) == expected, name
    assert built.scalar(
        f"select count(*) from marts.episodes where session_id = "
        f"{stable_id('tracking_csv', HAND_PIPELINE)}"
    ) == len(HAND_OBSERVATIONS)  # tracked_bboxes_1.csv, the same bytes, is no episode


def test_hand_pipeline_properties(built: Warehouse) -> None:
    values = properties(built, hand("rgb_1", "rgb_1_tracked_centroids_3d.csv"))
    assert values == {
        (1, 1): {
            **{"bbox_x1": 10.0, "bbox_y1": 20.0, "bbox_x2": 30.0, "bbox_y2": 40.0},
            **{"confidence": 0.9, "detection_class": "0", "image_u": 20.0, "image_v": 30.0},
        },
        (1, 3): {
            **{"bbox_x1": 14.0, "bbox_y1": 22.0, "bbox_x2": 34.0, "bbox_y2": 42.0},
            **{"confidence": 0.7, "detection_class": "0", "image_u": 24.0, "image_v": 32.0},
        },
        (2, 1): {
            **{"bbox_x1": 102.0, "bbox_y1": 100.0, "bbox_x2": 122.0, "bbox_y2": 110.0},
            **{"confidence": 0.5, "detection_class": "0", "image_u": 112.0, "image_v": 105.0},
        },
    }
    boxes = properties(built, hand("rgb_1", "rgb_1_tracked_bboxes.csv"))
    assert boxes[(3, 1)]["detection_class"] == "7" and boxes[(1, 1)]["detection_class"] == "0"
    assert properties(built, hand("thermal_1", "thermal_1_tracks.csv")) == {}


def test_hand_pipeline_episodes(built: Warehouse) -> None:
    rows = built.query(
        "select e.episode_name, e.num_observations, e.num_agents, e.num_frames, e.source_rows, "
        "d.episode_name, cast(e.metadata as varchar), e.frame_rate from marts.episodes e "
        "left join marts.episodes d on d.episode_id = e.derived_from_episode_id "
        f"where e.session_id = {stable_id('tracking_csv', HAND_PIPELINE)} order by e.episode_number"
    )
    shown = [(*r[:6], json.loads(r[6]), r[7]) for r in rows]
    boxes, tracks, empty = (
        "rgb_1/rgb_1_tracked_bboxes.csv",
        "thermal_1/thermal_1_tracks.csv",
        "thermal_2/thermal_2_tracks.csv",
    )

    def metadata(file: str, modality: str, shape: str, **facts: object) -> dict:
        camera = file.split("/")[-2]
        size = len(HAND_PIPELINE_FILES[file].encode())
        return {
            **{"camera": camera, "modality": modality, "shape": shape, "file_size_bytes": size},
            **{"also_named": None, "rows_without_world_point": None, "ignored_columns": None},
            **facts,
        }

    rgb_1, rgb_2 = "aligned_frames/rgb_1/", "rgb_2/"
    thermal_1, thermal_2 = "aligned_frames/thermal_1/", "aligned_frames/thermal_2/"
    assert shown == [
        (
            *(boxes, 6, 3, 4, 6, tracks),
            metadata(
                rgb_1 + "rgb_1_tracked_bboxes.csv",
                "rgb",
                "bboxes",
                also_named="tracked_bboxes_1.csv",
            ),
            10.0,
        ),
        (
            *("rgb_1/rgb_1_tracked_centroids_3d.csv", 3, 2, 2, 3, boxes),
            metadata(
                rgb_1 + "rgb_1_tracked_centroids_3d.csv",
                "rgb",
                "centroids_3d",
                rows_without_world_point=1,
            ),
            10.0,
        ),
        (
            *("rgb_2/a_bboxes.csv", 1, 1, 1, 1, empty),
            metadata(rgb_2 + "a_bboxes.csv", "rgb", "bboxes"),
            10.0,
        ),
        (
            *("rgb_2/b_bboxes.csv", 1, 1, 1, 1, empty),
            metadata(rgb_2 + "b_bboxes.csv", "rgb", "bboxes"),
            10.0,
        ),
        (
            *(tracks, 5, 2, 4, 5, None),
            metadata(thermal_1 + "thermal_1_tracks.csv", "thermal", "tracks"),
            10.0,
        ),
        (  # the tracker found nothing: an episode without observations
            *(empty, 0, 0, 0, 0, None),
            metadata(thermal_2 + "thermal_2_tracks.csv", "thermal", "tracks"),
            10.0,
        ),
    ]


def test_unmapped_class_is_a_type_of_its_own(built: Warehouse) -> None:
    assert built.query(
        "select agent_type_id, agent_type_name, is_environment from marts.agent_types "
        "where agent_type_id not in (select agent_type_id from reference.ref_agent_types)"
    ) == [("class_7", "Detector class 7", False)]
    assert built.query(
        "select detection_class, agent_type_id, mapped_by "
        "from intermediate.int_tracking_csv__detection_classes order by 1"
    ) == [("0", "bird", "ref_detection_classes"), ("7", "class_7", "unmapped")]


def test_tracks_per_session_without_double_counting(
    built: Warehouse, pipeline_sessions: Path
) -> None:
    """Episodes derived from another (rgb boxes, 3D centroids) hold the same animals as the
    thermal tracks: a session's tracks are counted over the other episodes only."""
    counted = built.query(
        "select s.session_name, sum(e.num_agents), count(*) from marts.episodes e "
        "join marts.sessions s using (session_id) where e.derived_from_episode_id is null "
        "group by 1 order by 1"
    )
    expected = [(HAND_PIPELINE, 2, 2)]
    for spec in (PIPELINE_A, PIPELINE_B):
        files = [p for shape, p in pipeline_files(spec, pipeline_sessions) if shape == "tracks"]
        tracks = sum(read_tracking_csv(p).track_id.nunique() for p in files)
        expected.append((spec.folder_name, tracks, spec.camera_pairs + spec.empty_cameras))
    assert counted == sorted(expected)
    derived = built.query(
        "select e.episode_name, d.episode_name from marts.episodes e "
        "join marts.episodes d on d.episode_id = e.derived_from_episode_id "
        f"where e.session_id = {stable_id('tracking_csv', PIPELINE_B.folder_name)} order by 1"
    )
    assert derived == [
        ("rgb_1/rgb_1_tracked_bboxes.csv", "thermal_1/thermal_1_tracks.csv"),
        ("rgb_1/rgb_1_tracked_centroids_3d.csv", "rgb_1/rgb_1_tracked_bboxes.csv"),
        ("rgb_2/rgb_2_tracked_bboxes.csv", "thermal_2/thermal_2_tracks.csv"),
        ("rgb_2/rgb_2_tracked_centroids_3d.csv", "rgb_2/rgb_2_tracked_bboxes.csv"),
    ]


@pytest.mark.parametrize("spec", [PIPELINE_A, PIPELINE_B], ids=["A", "B"])
def test_generated_pipeline_sessions_equal_source(
    built: Warehouse, pipeline_sessions: Path, spec
) -> None:
    for shape, path in pipeline_files(spec, pipeline_sessions):
        source = read_tracking_csv(path)
        episode = episode_id(spec.folder_name, path.parent.name, path.name)
        if shape == "centroids_3d":
            without = source.x.isna()
            assert without.any()
            metadata = built.scalar(
                f"select cast(metadata as varchar) from marts.episodes where episode_id = {episode}"
            )
            assert json.loads(metadata)["rows_without_world_point"] == int(without.sum())
            source = source[~without]
        got = observations(built, episode)
        assert len(got) == len(source) > 0, path.name
        assert {k: v[1:] for k, v in got.items()} == expected_rows(shape, source), path.name
        assert {v[0] for v in got.values()} == ({"agent"} if shape == "tracks" else {"bird"})
        values = properties(built, episode)
        if shape == "tracks":
            assert values == {}
            continue
        for r in source.to_dict("records"):
            value = values[(r["track_id"], r["frame"])]
            assert value["detection_class"] == "0" and value["confidence"] == r["confidence"]
            assert [value[f"bbox_{c}"] for c in ("x1", "y1", "x2", "y2")] == [
                r[c] for c in ("x1", "y1", "x2", "y2")
            ]
            if shape == "centroids_3d":
                assert (value["image_u"], value["image_v"]) == (r["u"], r["v"])


test_marts_identical_on_both_targets = marts_identical_test()


def test_a_changed_twin_lands_again(
    empty_warehouse: Warehouse, pipeline_sessions: Path, tmp_path: Path
) -> None:
    session = tmp_path / HAND_PIPELINE
    shutil.copytree(pipeline_sessions / HAND_PIPELINE, session)
    query = (
        "select file_name, also_named, num_rows from raw.tracking_csv_episodes "
        "where camera = 'rgb_1' and shape = 'bboxes' order by 1"
    )
    assert empty_warehouse.extract(session) == 0
    assert empty_warehouse.query(query) == [("rgb_1_tracked_bboxes.csv", "tracked_bboxes_1.csv", 6)]
    twin = session / "aligned_frames" / "rgb_1" / "tracked_bboxes_1.csv"
    twin.write_text(twin.read_text() + "9,9,1,1,2,2,0.5,0\n")
    assert empty_warehouse.extract(session) == 0  # no longer twins: two episodes
    assert empty_warehouse.query(query) == [
        ("rgb_1_tracked_bboxes.csv", None, 6),
        ("tracked_bboxes_1.csv", None, 7),
    ]


def test_tables_landed_before_the_new_columns_still_build(
    empty_warehouse: Warehouse, pipeline_sessions: Path
) -> None:
    """Raw tables landed before u, v and modality existed build with them NULL
    (source_or_empty), until the files are landed again (dlt then adds the columns)."""
    warehouse = empty_warehouse
    assert warehouse.extract(pipeline_sessions / HAND_PIPELINE) == 0
    for table, column in [("frames", "u"), ("frames", "v"), ("episodes", "modality")]:
        warehouse.execute(f"alter table raw.tracking_csv_{table} drop column {column}")
    warehouse.dbt_build()
    assert warehouse.scalar("select count(*) from marts.observations") == 16
    properties = "select count(*) from marts.extended_properties where property_id = 'image_u'"
    assert warehouse.scalar(properties) == 0
    derived = warehouse.query(
        "select e.episode_name, d.episode_name from marts.episodes e "
        "join marts.episodes d on d.episode_id = e.derived_from_episode_id"
    )  # without modality, only the rule of the 3D centroids applies
    assert derived == [("rgb_1/rgb_1_tracked_centroids_3d.csv", "rgb_1/rgb_1_tracked_bboxes.csv")]
