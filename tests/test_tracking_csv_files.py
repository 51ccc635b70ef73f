"""Tracking CSV files: invalid files and metadata are refused with messages naming file, line
and column; only camera CSVs are episodes and nothing outside a session folder is read; the
generator writes files like the lab's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow.csv
import pytest
import yaml

from extract.errors import InputFileError
from extract.path_safety import check_session
from extract.samples.tracking_csv import (
    SHORT_GAP,
    SessionSpec,
    write_session_folder,
)
from extract.samples.tracking_csv import main as generator_main
from extract.sources import tracking_csv
from extract.sources.tracking_csv_rows import SEEDS
from tests.samples import (
    GEN_A,
    HAND,
    generated_files,
    write_hand_session,
)
from tests.source_facts import read_tracking_csv

# --- refused files --------------------------------------------------------------------------

GOOD_BBOXES = "track_id,frame,x1,y1,x2,y2,confidence,class\n1,0,1,2,3,4,0.5,bird\n"
# (file name, content, message after "<path>: ")
BAD_FILES = {
    "missing column": (
        "a_bboxes.csv",
        "track_id,frame,x1,y1,y2\n1,0,1,2,3\n",
        "missing required column(s) x2; found track_id, frame, x1, y1, y2 "
        "(is this the right kind of file?)",
    ),
    "non-numeric value": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0,1,2\n1,1,abc,2\n",
        "column 'x' must be numeric; line 3 holds 'abc'",
    ),
    "non-numeric frame": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0,1,2\n\n1,one,1,2\n",  # the blank line 3 is counted
        "column 'frame' must be an integer; line 4 holds 'one'",
    ),
    "fractional frame": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0.5,1,2\n",
        "column 'frame' must hold whole numbers, line 2 is 0.5",
    ),
    "negative frame": (
        "a_centroids_3d.csv",
        "track_id,frame,x,y,z\n1,0,1,2,3\n1,-1,1,2,3\n",
        "column 'frame' is negative (-1) at line 3",
    ),
    "empty position": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0,1,2\n1,1,,2\n",
        "column 'x' has an empty value at line 3",
    ),
    "part of a world point empty": (
        "a_centroids_3d.csv",
        "track_id,frame,x,y,z\n1,0,1,2,3\n1,1,,,\n1,2,1,2,\n",
        "column 'z' has an empty value at line 4 (a world point is x, y and z, all given or all "
        "empty)",
    ),
    "part of a world point empty, pandas index": (
        "a_centroids_3d.csv",
        ",track_id,frame,u,v,x,y,z\n0,1,0,5,6,,2,3\n",
        "column 'x' has an empty value at line 2 (a world point is x, y and z, all given or all "
        "empty)",
    ),
    "fractional track id": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1.0,0,1,2\n1.5,1,1,2\n",
        "column 'track_id' must hold whole numbers, line 3 is 1.5",
    ),
    "inverted box of a 3D row": (
        "a_centroids_3d.csv",
        "track_id,frame,x1,y1,x2,y2,x,y,z\n1,0,5,2,3,4,1,2,3\n",
        "inverted box at line 2: column 'x2' (3.0) is less than column 'x1' (5.0) "
        "(corners must satisfy x1 <= x2 and y1 <= y2)",
    ),
    "3D file with part of a box": (
        "a_centroids_3d.csv",
        "track_id,frame,x1,y1,x,y,z\n1,0,5,2,1,2,3\n",
        "missing required column(s) x2, y2; found track_id, frame, x1, y1, x, y, z "
        "(is this the right kind of file?)",
    ),
    "infinite position": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0,inf,2\n",
        "column 'x' must be a finite number at every row; line 2 is inf",
    ),
    "inverted box": (
        "a_bboxes.csv",
        "track_id,frame,x1,y1,x2,y2\n1,0,1,2,3,4\n1,1,1,5,3,4\n",
        "inverted box at line 3: column 'y2' (4.0) is less than column 'y1' (5.0) "
        "(corners must satisfy x1 <= x2 and y1 <= y2)",
    ),
    "confidence above 1": (
        "a_bboxes.csv",
        "track_id,frame,x1,y1,x2,y2,confidence\n1,0,1,2,3,4,0.5\n1,1,1,2,3,4,1.2\n",
        "column 'confidence' must be within [0, 1]; line 3 is 1.2",
    ),
    "negative confidence": (
        "a_bboxes.csv",
        "track_id,frame,x1,y1,x2,y2,confidence\n1,0,1,2,3,4,-0.1\n",
        "column 'confidence' must be within [0, 1]; line 2 is -0.1",
    ),
    "duplicate track and frame": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0,1,2\n2,0,1,2\n1,1,1,2\n2,0,5,5\n",
        "duplicate row at line 5: track_id 2, frame 0 already at line 3 "
        "(a track has at most one row per frame)",
    ),
    "ragged line": (
        "a_tracks.csv",
        "track_id,frame,x,y\n1,0,1,2\n1,1,1\n",
        "line 3 has 3 fields, the header 4 (expected comma-separated text with a header line "
        "and as many fields on every line)",
    ),
    "header only, missing column": (
        "a_tracks.csv",
        "track_id,frame,x\n",
        "missing required column(s) y; found track_id, frame, x (is this the right kind of file?)",
    ),
    "repeated column": (
        "a_tracks.csv",
        "track_id,frame,x,y,x\n1,0,1,2,3\n",
        "column(s) x appear more than once in the header",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_invalid_file_is_refused_with_exact_message(tmp_path: Path, case: str) -> None:
    name, text, message = BAD_FILES[case]
    folder = tmp_path / "2025_01_02-session_0001"
    (folder / "cam").mkdir(parents=True)
    (folder / "cam" / "good_bboxes.csv").write_text(GOOD_BBOXES)
    bad = folder / "cam" / name
    bad.write_text(text)
    (session,) = tracking_csv.find(folder)
    assert session.read_episode(folder / "cam" / "good_bboxes.csv")
    with pytest.raises(InputFileError) as error:
        session.read_episode(bad)
    assert str(error.value) == f"{bad}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("notes: [unclosed\n", "invalid YAML: "),
        ("- a list\n", "expected a mapping (notes, data_sources, ...), found list"),
        (
            "frame_rate: fast\n",
            "frame_rate must be a positive number of frames per second, got 'fast'",
        ),
        ("fps: -25\n", "fps must be a positive number of frames per second, got -25"),
    ],
)
def test_invalid_metadata_refuses_the_session(tmp_path: Path, text: str, message: str) -> None:
    folder = write_hand_session(tmp_path)
    (folder / "Metadata.yaml").write_text(text)
    (session,) = tracking_csv.find(folder)
    with pytest.raises(InputFileError) as error:
        session.session_table()
    assert str(error.value).startswith(f"{folder / 'Metadata.yaml'}: {message}")


# --- files found and path safety -----------------------------------------------------------


def test_only_camera_csvs_are_episodes(tracking_sessions: Path) -> None:
    (session,) = tracking_csv.find(tracking_sessions / HAND)
    assert [p.relative_to(tracking_sessions / HAND).as_posix() for p in session.episode_files] == [
        "cam_a/flight_bboxes.csv",
        "cam_a/flight_tracks.csv",
        "cam_b/stereo_centroids_3d.csv",
    ]
    assert [(s.path.name, s.reason) for s in session.skipped] == [
        ("notes.txt", "not a CSV file"),
        (
            "summary_tracks.csv",
            "not in a camera folder (episode files, *_tracks.csv, *_bboxes.csv, "
            "tracked_bboxes_N.csv or *_centroids_3d.csv, sit in one)",
        ),
    ]  # the hidden cam_a/._flight_tracks.csv is not listed
    assert tracking_csv.find(tracking_sessions / HAND / "cam_a") == []
    assert tracking_csv.find(tracking_sessions) == []


def test_nothing_outside_the_session_is_read(
    tracking_sessions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / HAND
    shutil.copytree(tracking_sessions / HAND, folder)
    (folder / "cam_c").mkdir()
    os.symlink(folder / "cam_a" / "flight_tracks.csv", folder / "cam_c" / "linked_tracks.csv")
    opened: list[Path] = []
    for name in ("open", "read_text", "read_bytes"):
        original = getattr(Path, name)

        def spy(self: Path, *args: object, _original=original, **kwargs: object) -> object:
            opened.append(self)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Path, name, spy)
    read_csv = pyarrow.csv.read_csv
    monkeypatch.setattr(
        pyarrow.csv,
        "read_csv",
        lambda path, **kw: opened.append(Path(path)) or read_csv(path, **kw),
    )
    (session,) = tracking_csv.find(folder)
    session.session_table()
    for file in session.episode_files:
        session.read_episode(file)
    assert len(session.episode_files) == 4  # a link inside the session folder is followed
    # besides the session's files, only the repository's own seeds (the class mapping)
    allowed = (folder.resolve(), SEEDS)
    assert opened
    assert all(any(p.resolve().is_relative_to(a) for a in allowed) for p in opened)


@pytest.mark.parametrize(
    "link",
    ["cam_a/outside_tracks.csv", "cam_x", "Metadata.yaml", "metadata.yaml", "aligned_frames"],
)
def test_links_out_of_the_session_refuse_it(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "cam").mkdir(parents=True)
    (outside / "cam" / "x_tracks.csv").write_text("track_id,frame,x,y\n1,0,1,2\n")
    (outside / "Metadata.yaml").write_text("notes: private\n")
    folder = write_hand_session(tmp_path / "data")
    (folder / link).unlink(missing_ok=True)
    target = {
        "cam_x": outside / "cam",
        "Metadata.yaml": outside / "Metadata.yaml",
        "metadata.yaml": outside / "Metadata.yaml",
        "aligned_frames": outside,
    }.get(link, outside / "cam" / "x_tracks.csv")
    os.symlink(target, folder / link)
    (session,) = tracking_csv.find(folder)
    assert all(p.resolve().is_relative_to(folder.resolve()) for p in session.episode_files)
    with pytest.raises(InputFileError) as error:  # the run checks a session, then reads it
        check_session(session)
        session.session_table()
    assert str(error.value) == (
        f"{folder / link}: is a link to {target.resolve()}, outside the session folder {folder} "
        "(copy the data into the session folder: nothing outside it is read)"
    )


# --- the sample generator -------------------------------------------------------------------


def test_generated_session_is_realistic(tracking_sessions: Path) -> None:
    folder = tracking_sessions / GEN_A.folder_name
    metadata = yaml.safe_load((folder / "Metadata.yaml").read_text())
    assert set(metadata) == {"notes", "data_sources", "frame_rate"}
    assert all(set(s) == {"description", "original_path", "path"} for s in metadata["data_sources"])
    shapes = {
        shape: read_tracking_csv(path) for shape, path in generated_files(GEN_A, tracking_sessions)
    }
    assert list(shapes["bboxes"].columns) == [
        "track_id",
        "frame",
        "x1",
        "y1",
        "x2",
        "y2",
        "confidence",
        "class",
    ]
    assert list(shapes["tracks"].columns) == ["track_id", "frame", "x", "y"]
    assert (shapes["tracks"][["x", "y"]] % 1 == 0).all().all()  # integer pixels
    assert list(shapes["centroids_3d"].columns)[:5] == ["track_id", "frame", "x", "y", "z"]
    boxes = shapes["bboxes"]
    assert (boxes.x1 <= boxes.x2).all() and (boxes.y1 <= boxes.y2).all()
    assert boxes.confidence.between(0, 1).all()
    assert "squirrel" in set(boxes["class"])
    for frame in shapes.values():
        assert not frame.duplicated(["track_id", "frame"]).any()
        steps = frame.sort_values("frame").groupby("track_id").frame.diff()
        assert (steps > 1).any()  # gaps
        assert (steps > SHORT_GAP).any()  # a lost track whose id comes back (a restart)
        assert frame.track_id.nunique() > GEN_A.num_animals  # ended tracks, new ids


def test_cli_writes_the_session_of_its_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--number", "4", "--frames", "6", "--animals", "2", "--frame-rate", "12.5"]
    assert generator_main([str(tmp_path / "cli"), *options, "--seed", "3"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    spec = SessionSpec(number=4, num_frames=6, num_animals=2, frame_rate=12.5, seed=3)
    expected = write_session_folder(tmp_path / "api", spec)
    assert folder == tmp_path / "cli" / expected.name
    files = sorted(p.relative_to(expected) for p in expected.rglob("*") if p.is_file())
    assert len(files) > 3
    assert files == sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    for file in files:
        assert (folder / file).read_bytes() == (expected / file).read_bytes(), file
    assert generator_main([str(tmp_path / "bare"), "--no-metadata"]) == 0
    bare = Path(capsys.readouterr().out.strip())
    assert bare.name == SessionSpec().folder_name
    assert not (bare / "Metadata.yaml").exists() and not (bare / "metadata.yaml").exists()
