"""Tracking sessions as the lab's pipeline writes them (../shared/SOURCES.md, section 3): camera
folders in aligned_frames/ or in the session folder, both metadata spellings, twin files landed
once, every other file listed as skipped, 3D files with the pandas index and missing world
points, header-only tracks; and the generator's sessions in that layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from extract.cli import main as extract_main
from extract.errors import InputFileError
from extract.fingerprint import sha256_files
from extract.samples.tracking_csv import LONG_TRACK
from extract.sources import tracking_csv
from extract.sources.tracking_csv_rows import SEEDS, class_labels_note
from tests.samples import HAND_PIPELINE, PIPELINE_A, write_pipeline_sessions
from tests.source_facts import read_tracking_csv

TWIN_NAMES = ("rgb_1_tracked_bboxes.csv", "tracked_bboxes_1.csv")
CLASS_7_NOTE = (
    "class label(s) '7' map to no agent type: loaded as type(s) class_7 (to map a label, add a "
    "row `label,agent_type_id,description` to dbt_project/seeds/ref_detection_classes.csv; "
    "dbt build --full-refresh then retypes the episodes built before)"
)

PIPELINE_EPISODES = [
    "aligned_frames/rgb_1/rgb_1_tracked_bboxes.csv",
    "aligned_frames/rgb_1/rgb_1_tracked_centroids_3d.csv",
    "rgb_2/a_bboxes.csv",
    "rgb_2/b_bboxes.csv",  # different content: an episode of its own
    "aligned_frames/thermal_1/thermal_1_tracks.csv",
    "aligned_frames/thermal_2/thermal_2_tracks.csv",
]
PIPELINE_SKIPPED = [
    ("aligned_frames/rgb_1/rgb_1.mp4", "a video, not loaded"),
    (
        "aligned_frames/rgb_1/tracked_bboxes_1.csv",
        "same content as rgb_1_tracked_bboxes.csv: landed once, under that name",
    ),
    (
        "aligned_frames/rgb_1/tracked_bboxes_1_with_masks.csv",
        "masks of the tracked boxes: the boxes are landed from the bboxes file, masks are not",
    ),
    (
        "aligned_frames/thermal_1/detections_1.csv",
        "the detector's raw output (one row per frame, JSON predictions), not tracks",
    ),
    ("aligned_frames/thermal_1/thermal_1.mp4", "a video, not loaded"),
    (
        "notes.txt",
        "not in a camera folder (episode files, *_tracks.csv, *_bboxes.csv, "
        "tracked_bboxes_N.csv or *_centroids_3d.csv, sit in one)",
    ),
    (
        "summary.csv",
        "not in a camera folder (episode files, *_tracks.csv, *_bboxes.csv, "
        "tracked_bboxes_N.csv or *_centroids_3d.csv, sit in one)",
    ),
]


@pytest.fixture
def pipeline_session(tmp_path: Path) -> Path:
    return write_pipeline_sessions(tmp_path) / HAND_PIPELINE


def test_pipeline_layout_episodes_and_skipped_files(pipeline_session: Path) -> None:
    (session,) = tracking_csv.find(pipeline_session)
    relative = [p.relative_to(pipeline_session).as_posix() for p in session.episode_files]
    assert relative == PIPELINE_EPISODES
    assert [
        (s.path.relative_to(pipeline_session).as_posix(), s.reason) for s in session.skipped
    ] == PIPELINE_SKIPPED  # the hidden ._thermal_1_tracks.csv is not listed
    boxes, twin = (pipeline_session / "aligned_frames/rgb_1" / n for n in TWIN_NAMES)
    assert session.inputs_of(boxes) == [boxes, twin]
    before = sha256_files(session.inputs_of(boxes))
    twin.write_text(twin.read_text() + "9,9,1,1,2,2,0.5,0\n")  # a change to either lands it
    assert sha256_files(session.inputs_of(boxes)) != before
    table = session.session_table().to_pylist()[0]
    assert (table["metadata_json"], table["metadata_frame_rate"]) == (
        '{"fps": 10, "notes": "lowercase spelling"}',
        10.0,
    )


def test_pipeline_episode_rows_and_notes(pipeline_session: Path) -> None:
    (session,) = tracking_csv.find(pipeline_session)
    files = dict(zip(PIPELINE_EPISODES, session.episode_files, strict=True))
    rows = {name: session.read_episode(file) for name, file in files.items()}
    episodes = {name: r.episodes.to_pylist()[0] for name, r in rows.items()}
    boxes, centroids, _, _, tracks, empty = PIPELINE_EPISODES
    assert {k: episodes[boxes][k] for k in ("camera", "modality", "also_named", "shape")} == {
        "camera": "rgb_1",
        "modality": "rgb",
        "also_named": "tracked_bboxes_1.csv",
        "shape": "bboxes",
    }
    assert rows[boxes].notes == (CLASS_7_NOTE,)
    assert episodes[centroids]["num_rows"] == 3
    assert episodes[centroids]["rows_without_world_point"] == 1
    assert episodes[centroids]["ignored_columns"] is None  # the index column is recognised
    assert rows[centroids].notes == (
        "1 row(s) without a world point (x, y, z empty), counted, not landed",
    )
    frames = rows[centroids].frames.to_pydict()
    assert frames["frame"] == [1, 3, 1] and frames["u"] == [20.0, 24.0, 112.0]
    assert frames["class"] == ["0", "0", "0"] and frames["x1"] == [10.0, 14.0, 102.0]
    assert rows[tracks].frames.column("track_id").to_pylist() == [2, 1, 1, 1, 2]
    assert (episodes[tracks]["modality"], episodes[tracks]["rows_without_world_point"]) == (
        "thermal",
        None,
    )
    assert episodes[empty]["num_rows"] == 0 and rows[empty].frames.num_rows == 0
    assert episodes["rgb_2/a_bboxes.csv"]["also_named"] is None


def test_camera_in_both_places_refuses_the_session(pipeline_session: Path) -> None:
    shutil.copytree(pipeline_session / "rgb_2", pipeline_session / "aligned_frames" / "rgb_2")
    (session,) = tracking_csv.find(pipeline_session)
    with pytest.raises(InputFileError) as error:
        session.session_table()
    aligned = pipeline_session / "aligned_frames" / "rgb_2"
    assert str(error.value) == (
        f"{aligned}: camera folder rgb_2 is also at {pipeline_session / 'rgb_2'} "
        "(keep each camera in one place, the session folder or aligned_frames/)"
    )


@pytest.mark.parametrize("same", [True, False])
def test_metadata_in_both_spellings(pipeline_session: Path, same: bool) -> None:
    lower = pipeline_session / "metadata.yaml"
    upper = pipeline_session / "Metadata.yaml"
    upper.write_text(lower.read_text() if same else "notes: another\n")
    (session,) = tracking_csv.find(pipeline_session)
    if same:
        assert session.session_table().column("metadata_frame_rate").to_pylist() == [10.0]
        return
    with pytest.raises(InputFileError) as error:
        session.session_table()
    assert str(error.value) == (
        f"{lower}: differs from {upper}: two metadata files with different content "
        "(keep one of them)"
    )


def test_class_labels_note_reads_the_seed(tmp_path: Path) -> None:
    assert class_labels_note(["0", "Bird", "rat"]) is None  # seed, agent types
    assert class_labels_note(["0", "7"]) == CLASS_7_NOTE
    (tmp_path / "ref_detection_classes.csv").write_text(
        "detection_class,agent_type_id,description\n7,rat,x\n"
    )
    shutil.copy(SEEDS / "ref_agent_types.csv", tmp_path)
    assert class_labels_note(["7", "bird"], tmp_path) is None
    assert "'0'" in class_labels_note(["0"], tmp_path)


def test_run_lists_skipped_files_and_notes(
    pipeline_session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert extract_main(["--check", str(pipeline_session)]) == 0
    out = capsys.readouterr().out
    for path, reason in PIPELINE_SKIPPED:
        assert f"\n  skipped {path}: {reason}\n" in out
    assert "rgb_1_tracked_bboxes.csv: 6 rows (" in out and f"; {CLASS_7_NOTE}\n" in out
    assert "rgb_1_tracked_centroids_3d.csv: 3 rows (" in out
    assert "thermal_2_tracks.csv: 0 rows (" in out
    assert "._thermal_1" not in out
    assert "checked 6 episode file(s) of 1 session(s)" in out


# --- the sample generator -------------------------------------------------------------------


def test_generated_pipeline_session_has_the_pipelines_quirks(tmp_path: Path) -> None:
    write_pipeline_sessions(tmp_path)
    folder = tmp_path / PIPELINE_A.folder_name
    cameras = folder / "aligned_frames"
    assert sorted(p.name for p in cameras.iterdir()) == ["rgb_1", "thermal_1", "thermal_2"]
    assert sorted(p.name for p in folder.iterdir()) == ["aligned_frames", "metadata.yaml"]
    tracks_text = (cameras / "thermal_1" / "thermal_1_tracks.csv").read_text()
    assert tracks_text.splitlines()[1].split(",")[0] == "1.0"  # float track ids
    tracks = read_tracking_csv(cameras / "thermal_1" / "thermal_1_tracks.csv")
    assert tracks.track_id.is_monotonic_increasing and not tracks.frame.is_monotonic_increasing
    rgb = cameras / "rgb_1"
    boxes = (rgb / "tracked_bboxes_1.csv").read_bytes()
    assert boxes == (rgb / "rgb_1_tracked_bboxes.csv").read_bytes()
    assert set(read_tracking_csv(rgb / "tracked_bboxes_1.csv")["class"]) == {"0"}
    centroids_text = (rgb / "rgb_1_tracked_centroids_3d.csv").read_text()
    assert centroids_text.startswith(",track_id,frame,x1,y1,x2,y2,confidence,class,u,v,x,y,z\n")
    centroids = pd.read_csv(rgb / "rgb_1_tracked_centroids_3d.csv", index_col=0)
    missing = centroids[["x", "y", "z"]].isna()
    assert missing.all(axis=1).sum() > 0 and (missing.any(axis=1) == missing.all(axis=1)).all()
    assert (centroids.groupby("track_id").size() >= LONG_TRACK).all()
    assert (cameras / "thermal_2" / "thermal_2_tracks.csv").read_text() == "track_id,frame,x,y\n"
    assert (
        (cameras / "thermal_1" / "detections_1.csv")
        .read_text()
        .startswith("count_objects,output_image,predictions\n")
    )
    assert (
        (rgb / "tracked_bboxes_1_with_masks.csv")
        .read_text()
        .startswith("track_id,frame,x1,y1,x2,y2,mask\n")
    )
    assert (rgb / "rgb_1.mp4").is_file() and (cameras / "thermal_1" / "thermal_1.mp4").is_file()
    (session,) = tracking_csv.find(folder)
    assert [p.name for p in session.episode_files] == [
        "rgb_1_tracked_bboxes.csv",
        "rgb_1_tracked_centroids_3d.csv",
        "thermal_1_tracks.csv",
        "thermal_2_tracks.csv",
    ]
