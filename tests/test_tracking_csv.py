"""Tracking CSV sessions: all three shapes land in the marts on both targets, exactly as the
files hold them; invalid files are refused with messages naming file, line and column, and
leave the warehouse unchanged; nothing outside a session folder is read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv
import pytest
import yaml

from extract.errors import InputFileError
from extract.ids import stable_id
from extract.samples.tracking_csv import SHORT_GAP, SessionSpec, write_session_folder
from extract.sources import tracking_csv
from tests.conftest import built_warehouse
from tests.test_targets_identical import table_contents
from tests.warehouse import Warehouse, duckdb_warehouse

# Generated sessions: A has all three shapes and a frame rate in Metadata.yaml, B no
# Metadata.yaml at all (so the default frame rate).
GEN_A = SessionSpec(date="2025_06_03", number=1, num_animals=5, num_frames=60, frame_rate=25.0)
GEN_B = SessionSpec(
    date="2025_06_04",
    number=2,
    cameras=(("thermal_2", "tracks"), ("rgb_2", "bboxes")),
    num_animals=3,
    num_frames=40,
    metadata=False,
    seed=9,
)
HAND = "2025_07_01-session_0003"

# A hand-written session whose expected marts are worked out below by hand.
HAND_FILES = {
    # box centres (20, 30) (22, 32) (25, 32) | gap | (30, 34) (32, 35); (110.25, 105) (111, 106);
    # (50, 55). Classes: Bird is a bird, squirrel is unknown, track 7 has no class.
    "cam_a/flight_bboxes.csv": """track_id,frame,x1,y1,x2,y2,confidence,class
1,0,10,20,30,40,0.9,bird
1,1,12,21,32,43,0.8,Bird
2,0,100.5,100,120,110,0.5,squirrel
1,2,15,20,35,44,0.95,bird

2,1,101,100,121,112,1,squirrel
7,1,50,50,50,60,0,
1,4,20,22,40,46,0.7,bird
1,5,22,22,42,48,,bird
""",
    # track 3 ends at frame 12 and restarts at frame 20
    "cam_a/flight_tracks.csv": """track_id,frame,x,y
3,10,100,200
3,11,104,203
3,12,109,205
3,20,300,50
3,21,302,49
4,10,50,60
""",
    "cam_b/stereo_centroids_3d.csv": """track_id,frame,x,y,z,reprojection_error,camera_count
1,0,0.5,1.0,1.5,0.2,3
1,1,0.75,1.25,1.0,0.3,2
2,0,2.0,2.0,0.0,0.1,3
""",
    # ignored: not in a camera folder, not an episode CSV, hidden
    "summary_tracks.csv": "not,an,episode\n",
    "cam_a/notes.txt": "camera 1 was re-focused at frame 3\n",
    "cam_a/._flight_tracks.csv": "\x00\x05binary resource fork",
}
HAND_METADATA = {
    "notes": "Hand-checked session.",
    "fps": 12.5,
    "data_sources": [
        {
            "description": "a path outside the session: recorded, never opened",
            "original_path": "/nonexistent/raw/video.mp4",
            "path": "../../../etc/passwd",
        }
    ],
}
# (agent_id, time_index) -> (agent type, x, y, z, v_x, v_y, v_z)
HAND_BBOXES = {
    (1, 0): ("bird", 20.0, 30.0, None, None, None, None),
    (1, 1): ("bird", 22.0, 32.0, None, 2.0, 2.0, None),
    (1, 2): ("bird", 25.0, 32.0, None, 3.0, 0.0, None),
    (1, 4): ("bird", 30.0, 34.0, None, None, None, None),
    (1, 5): ("bird", 32.0, 35.0, None, 2.0, 1.0, None),
    (2, 0): ("agent", 110.25, 105.0, None, None, None, None),
    (2, 1): ("agent", 111.0, 106.0, None, 0.75, 1.0, None),
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


def write_hand_session(parent: Path) -> Path:
    folder = parent / HAND
    for name, text in HAND_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "Metadata.yaml").write_text(yaml.safe_dump(HAND_METADATA))
    return folder


def episode_id(session: str, camera: str, file_name: str) -> int:
    return stable_id("tracking_csv", session, camera, file_name)


def exact_float(text: str) -> float:
    """A CSV cell as Python parses it (correctly rounded, whatever the pandas version)."""
    return float(text) if text else np.nan


def read_source(path: Path) -> pd.DataFrame:
    """A CSV as pandas reads it, independently of the extract code; measurements as floats."""
    header = path.read_text().splitlines()[0].split(",")
    keys = ("track_id", "frame", "class")
    return pd.read_csv(path, converters={c: exact_float for c in header if c not in keys})


def generated_files(spec: SessionSpec, parent: Path) -> list[tuple[str, Path]]:
    return [
        (shape, parent / spec.folder_name / camera / f"{camera}_{shape}.csv")
        for camera, shape in spec.cameras
    ]


def expected_rows(shape: str, frame: pd.DataFrame) -> dict[tuple[int, int], tuple]:
    """(agent_id, time_index) -> (x, y, z, v_x, v_y, v_z) worked out with pandas: the box
    centre for bboxes, backward differences within a track, None across a missing frame."""
    frame = frame.sort_values(["track_id", "frame"]).reset_index(drop=True)
    if shape == "bboxes":
        frame["x"] = (frame.x1 + frame.x2) / 2
        frame["y"] = (frame.y1 + frame.y2) / 2
    if "z" not in frame:
        frame["z"] = np.nan
    previous = frame.groupby("track_id")[["frame", "x", "y", "z"]].shift(1)
    step = (frame.frame - previous.frame) == 1
    rows = {}
    for i, r in frame.iterrows():
        v = [(r[a] - previous[a][i]) if step[i] and not np.isnan(r[a]) else None for a in "xyz"]
        rows[(int(r.track_id), int(r.frame))] = (
            float(r.x),
            float(r.y),
            None if np.isnan(r.z) else float(r.z),
            *v,
        )
    return rows


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("tracking")
    write_session_folder(parent, GEN_A)
    write_session_folder(parent, GEN_B)
    write_hand_session(parent)
    return parent


@pytest.fixture(scope="module")
def duckdb_tracking(
    tmp_path_factory: pytest.TempPathFactory, sessions: Path
) -> Iterator[Warehouse]:
    yield from built_warehouse("duckdb", tmp_path_factory.mktemp("tracking-duckdb"), sessions)


@pytest.fixture(scope="module")
def postgres_tracking(
    tmp_path_factory: pytest.TempPathFactory, sessions: Path
) -> Iterator[Warehouse]:
    yield from built_warehouse("postgres", tmp_path_factory.mktemp("tracking-postgres"), sessions)


@pytest.fixture(params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest) -> Warehouse:
    return request.getfixturevalue(f"{request.param}_tracking")


def observations(warehouse: Warehouse, episode: int) -> dict[tuple[int, int], tuple]:
    rows = warehouse.query(
        "select agent_id, time_index, agent_type_id, x, y, z, v_x, v_y, v_z "
        f"from marts.observations where episode_id = {episode}"
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def properties(warehouse: Warehouse, episode: int) -> dict[tuple[int, int], dict[str, object]]:
    """(agent_id, time_index) -> {property_id: value_float or value_text}, for the properties
    of category tracking_csv (computed ones such as speed are not this family's)."""
    rows = warehouse.query(
        "select o.agent_id, o.time_index, p.property_id, p.value_float, p.value_text "
        "from marts.extended_properties p join marts.observations o using (observation_id) "
        "join marts.property_category_mapping m using (property_id) "
        f"where p.episode_id = {episode} and m.category_id = 'tracking_csv'"
    )
    found: dict[tuple[int, int], dict[str, object]] = {}
    for agent, time, prop, number, text in rows:
        found.setdefault((agent, time), {})[prop] = number if text is None else text
    return found


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
    assert values[(2, 0)]["detection_class"] == "squirrel"  # unknown class: type agent
    assert values[(2, 0)]["bbox_x1"] == 100.5
    assert "confidence" not in values[(1, 5)]  # empty cell: no value stored
    assert "detection_class" not in values[(7, 1)]
    assert values[(7, 1)]["confidence"] == 0.0
    assert sum(len(v) for v in values.values()) == 8 * 4 + 7 + 7
    for name in ("flight_tracks.csv", "stereo_centroids_3d.csv"):
        camera = "cam_b" if name.startswith("stereo") else "cam_a"
        assert properties(built, episode_id(HAND, camera, name)) == {}


def test_sessions_config_and_frame_rates(built: Warehouse, sessions: Path) -> None:
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
        "source_path": str((sessions / HAND).resolve()),
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
    stated = yaml.safe_load((sessions / GEN_A.folder_name / "Metadata.yaml").read_text())
    assert json.loads(
        built.scalar(
            "select cast(config as varchar) from marts.sessions "
            f"where session_name = '{GEN_A.folder_name}'"
        )
    ) == json.loads(json.dumps(stated))


def test_episodes_name_their_camera(built: Warehouse, sessions: Path) -> None:
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
def test_generated_sessions_equal_source(built: Warehouse, sessions: Path, spec) -> None:
    for shape, path in generated_files(spec, sessions):
        source = read_source(path)
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
            known = r["class"] if r["class"] in ("bird", "rat", "gerbil") else "agent"
            assert got[key][0] == known


def test_agent_types_and_counts(built: Warehouse, sessions: Path) -> None:
    total = sum(
        len(read_source(p)) for s in (GEN_A, GEN_B) for _, p in generated_files(s, sessions)
    )
    assert built.scalar("select count(*) from marts.observations") == total + 8 + 6 + 3
    bboxes = pd.concat(
        read_source(p)
        for s in (GEN_A, GEN_B)
        for shape, p in generated_files(s, sessions)
        if shape == "bboxes"
    )
    assert set(bboxes["class"]) == {"bird", "rat", "gerbil", "squirrel"}  # squirrel: unknown
    known = bboxes["class"].isin(["bird", "rat", "gerbil"])
    expected = bboxes["class"][known].value_counts().to_dict()
    expected["bird"] += 5  # hand session: track 1 (bird, Bird)
    expected["agent"] = total - int(known.sum()) + 3 + 6 + 3  # unknown or no class
    by_type = dict(built.query("select agent_type_id, count(*) from marts.observations group by 1"))
    assert by_type == expected


def test_observation_id_is_documented_hash(built: Warehouse) -> None:
    episode = episode_id(HAND, "cam_a", "flight_bboxes.csv")
    expected = int(hashlib.md5(f"{episode}|4|bird|1".encode()).hexdigest()[:16], 16) & (2**63 - 1)
    assert (
        built.scalar(
            "select observation_id from marts.observations "
            f"where episode_id = {episode} and time_index = 4 and agent_id = 1"
        )
        == expected
    )


# The marts holding this family's rows, and the reference marts they point to; compared
# exactly (the analytics marts, aggregates over floats, are compared within a tolerance by
# tests/test_targets_identical.py).
TRACKING_MARTS = (
    "sessions",
    "episodes",
    "observations",
    "extended_properties",
    "agent_types",
    "property_definitions",
    "property_category_mapping",
)


@pytest.mark.parametrize("mart", TRACKING_MARTS)
def test_marts_identical_on_both_targets(
    duckdb_tracking: Warehouse, postgres_tracking: Warehouse, mart: str
) -> None:
    duck = table_contents(duckdb_tracking, mart)
    assert len(duck[1]) > 0
    assert duck == table_contents(postgres_tracking, mart)


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
        "a_centroids_3d.csv",
        "track_id,frame,x,y,z\n1,0,1,2,\n",
        "column 'z' has an empty value at line 2",
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
    "header only": (
        "a_tracks.csv",
        "track_id,frame,x,y\n",
        "the file holds no rows (only a header)",
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


def with_bad_tracks_file(sessions: Path, parent: Path) -> tuple[Path, str]:
    """A copy of the hand session whose tracks file gained a duplicate row, and the error."""
    copy = parent / HAND
    shutil.copytree(sessions / HAND, copy)
    bad = copy / "cam_a" / "flight_tracks.csv"
    bad.write_text(HAND_FILES["cam_a/flight_tracks.csv"] + "4,10,1,1\n")
    return copy, f"{bad}: duplicate row at line 8: track_id 4, frame 10 already at line 7"


def test_refused_file_leaves_warehouse_unchanged(
    built: Warehouse, sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = raw_snapshot(built)
    copy, message = with_bad_tracks_file(sessions, tmp_path)
    other = write_session_folder(tmp_path / "more", SessionSpec(number=9, num_frames=5))
    assert built.extract(copy, other) == 1  # the valid session in the same run does not land
    assert f"error: {message}" in capsys.readouterr().err
    assert raw_snapshot(built) == before


def test_skip_invalid_keeps_the_landed_episode_whole(
    sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb_warehouse(tmp_path / "w") as warehouse:
        assert warehouse.extract(sessions / HAND) == 0
        before = episode_snapshot(warehouse)
        copy, message = with_bad_tracks_file(sessions, tmp_path / "changed")
        assert warehouse.extract("--skip-invalid", copy) == 1
        assert message in capsys.readouterr().err
        # the other files are unchanged (skipped); the landed version of the refused one
        # stays whole, never partly replaced
        assert episode_snapshot(warehouse) == before


# --- files found and path safety -----------------------------------------------------------


def test_only_camera_csvs_are_episodes(sessions: Path) -> None:
    (session,) = tracking_csv.find(sessions / HAND)
    assert [p.relative_to(sessions / HAND).as_posix() for p in session.episode_files] == [
        "cam_a/flight_bboxes.csv",
        "cam_a/flight_tracks.csv",
        "cam_b/stereo_centroids_3d.csv",
    ]
    assert tracking_csv.find(sessions / HAND / "cam_a") == []
    assert tracking_csv.find(sessions) == []


def test_nothing_outside_the_session_is_read(
    sessions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / HAND
    shutil.copytree(sessions / HAND, folder)
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
    assert opened and all(p.resolve().is_relative_to(folder.resolve()) for p in opened)


@pytest.mark.parametrize("link", ["cam_a/outside_tracks.csv", "cam_x", "Metadata.yaml"])
def test_links_out_of_the_session_refuse_it(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "cam").mkdir(parents=True)
    (outside / "cam" / "x_tracks.csv").write_text("track_id,frame,x,y\n1,0,1,2\n")
    (outside / "Metadata.yaml").write_text("notes: private\n")
    folder = write_hand_session(tmp_path / "data")
    (folder / link).unlink(missing_ok=True)
    target = {"cam_x": outside / "cam", "Metadata.yaml": outside / "Metadata.yaml"}.get(
        link, outside / "cam" / "x_tracks.csv"
    )
    os.symlink(target, folder / link)
    (session,) = tracking_csv.find(folder)
    assert all(p.resolve().is_relative_to(folder.resolve()) for p in session.episode_files)
    with pytest.raises(InputFileError) as error:
        session.session_table()
    assert str(error.value) == (
        f"{folder / link}: is a link to {target.resolve()}, outside the session folder {folder} "
        "(copy the data into the session folder: nothing outside it is read)"
    )


# --- the sample generator -------------------------------------------------------------------


def test_generated_session_is_realistic(sessions: Path) -> None:
    folder = sessions / GEN_A.folder_name
    metadata = yaml.safe_load((folder / "Metadata.yaml").read_text())
    assert set(metadata) == {"notes", "data_sources", "frame_rate"}
    assert all(set(s) == {"description", "original_path", "path"} for s in metadata["data_sources"])
    shapes = {shape: read_source(path) for shape, path in generated_files(GEN_A, sessions)}
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
