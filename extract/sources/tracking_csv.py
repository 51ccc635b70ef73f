"""Real-world tracking sessions as the lab's pipeline writes them: camera folders of CSV files
and an optional Metadata.yaml.

A session folder `YYYY_MM_DD-session_NNNN` holds an optional `Metadata.yaml` or
`metadata.yaml` (notes, data_sources, maybe a frame rate) and one folder per camera
(`thermal_N`, `rgb_N`, ...), either directly in it or in its `aligned_frames/` folder. Each
`*_tracks.csv`, `*_bboxes.csv`, `tracked_bboxes_N.csv` or `*_centroids_3d.csv` directly in a
camera folder is one episode (extract/sources/tracking_csv_rows.py reads it); the same content
under two names in one camera folder is one episode. Every other file is listed as skipped
with the reason (detector output, masks, videos, CSVs at the session root); hidden files
(`._*`) are ignored. Lands three raw tables:

- `tracking_csv_sessions`: one row per session folder, the metadata file as JSON text;
- `tracking_csv_episodes`: one row per episode (camera, modality, shape, fingerprint, other
  names of the same content, ignored columns, 3D rows without a world point);
- `tracking_csv_frames`: the CSV rows as read (track_id, frame, x, y, z, x1..y2, u, v,
  confidence, class; NULL where the shape has no such column), tagged with `episode_id`.

Path safety (extract/path_safety.py, the rule of every family): nothing outside the session
folder is opened or listed. A metadata file, `aligned_frames/`, camera folder or episode CSV
that is a link resolving outside it refuses the session, and the paths in the metadata
(`data_sources[].path`) are recorded, never opened.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from extract.config_files import frame_rate, json_text, read_yaml_mapping
from extract.errors import InputFileError, shown
from extract.fingerprint import sha256_file
from extract.ids import stable_id
from extract.path_safety import file_problem, link_out, present
from extract.sources import EpisodeRows, Skipped, SourceFamily
from extract.sources.tracking_csv_rows import (
    CsvRows,
    Shape,
    class_labels_note,
    frames_table,
    shape_of,
)

CATEGORY = "tracking_csv"
METADATA_FILES = ("Metadata.yaml", "metadata.yaml")
ALIGNED_FRAMES = "aligned_frames"
SESSION_FOLDER_RE = re.compile(r"^(?P<date>\d{4}_\d{2}_\d{2})-session_(?P<number>\d+)$")
MODALITIES = ("thermal", "rgb")  # a camera folder named thermal* or rgb*
EPISODE_NAMES = "*_tracks.csv, *_bboxes.csv, tracked_bboxes_N.csv or *_centroids_3d.csv"
# why a file of a camera folder that is no episode CSV is skipped, by its name
SKIP_REASONS = (
    (
        re.compile(r"^detections(_\d+)?\.csv$"),
        "the detector's raw output (one row per frame, JSON predictions), not tracks",
    ),
    (
        re.compile(r"_with_masks\.csv$"),
        "masks of the tracked boxes: the boxes are landed from the bboxes file, masks are not",
    ),
    (re.compile(r"\.(mp4|avi|mov|mkv)$", re.IGNORECASE), "a video, not loaded"),
    (re.compile(r"\.csv$", re.IGNORECASE), f"not an episode file name ({EPISODE_NAMES})"),
)


def skip_reason(file: Path) -> str:
    """Why a file of a camera folder that is not an episode CSV is skipped."""
    return next((why for name, why in SKIP_REASONS if name.search(file.name)), "not a CSV file")


def modality(camera: str) -> str | None:
    """`thermal` or `rgb` from the camera folder's name, else None."""
    return next((m for m in MODALITIES if camera.lower().startswith(m)), None)


@dataclass(frozen=True)
class SessionFolder:
    """A session folder: its episode CSVs in (camera, file name) order, the other names of
    their content, the files skipped, and the reasons that refuse it (links out of the
    folder, a camera folder in two places)."""

    path: Path
    files: tuple[Path, ...]
    metadata_files: tuple[Path, ...] = ()
    twins: dict[Path, tuple[Path, ...]] = field(default_factory=dict)
    refusals: tuple[InputFileError, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def session_id(self) -> int:
        return stable_id(CATEGORY, self.path.name)

    def episode_id(self, file: Path) -> int:
        return stable_id(CATEGORY, self.path.name, file.parent.name, file.name)

    @property
    def episode_files(self) -> list[Path]:
        return list(self.files)

    @property
    def session_files(self) -> list[Path]:
        return list(self.metadata_files)

    def inputs_of(self, file: Path) -> list[Path]:
        """The file and its twins (the same content under other names), so that a change to
        any of them lands it again; the session's own metadata is re-landed on every run."""
        return [file, *self.twins.get(file, ())]

    def session_table(self) -> pa.Table:
        return session_table(self)

    def read_episode(self, file: Path) -> EpisodeRows:
        """The `tracking_csv_frames` and `tracking_csv_episodes` rows of one CSV file, and what
        the run reports of it (3D rows without a world point, class labels with no type)."""
        shape = shape_of(file)
        assert shape is not None, file
        rows = frames_table(file, shape, self.episode_id(file))
        without = rows.rows_without_world_point
        notes = (
            f"{without:,} row(s) without a world point (x, y, z empty), counted, not landed"
            if without
            else None,
            class_labels_note(rows.class_labels),
        )
        episode = episode_table(self, file, shape, rows)
        return EpisodeRows(rows.frames, episode, tuple(filter(None, notes)))


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


class _Scan:
    """The walk of one session folder (scan_session_folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refusals: list[InputFileError] = []
        self.skipped: list[Skipped] = []
        self.cameras: dict[str, Path] = {}

    def inside(self, entry: Path) -> bool:
        """True when the folder resolves inside the session folder; a link out refuses it."""
        return self.accepted(link_out(entry, self.path))

    def accepted(self, refusal: InputFileError | None) -> bool:
        """Record the refusal, if any; True when there is none."""
        if refusal:
            self.refusals.append(refusal)
        return refusal is None

    def add_cameras(self, folder: Path) -> None:
        """The camera folders in `folder` (the session folder or its aligned_frames/); its
        files, but for the session's metadata, are skipped."""
        at_root = folder == self.path
        for entry in _visible(folder):
            if at_root and entry.name in (*METADATA_FILES, ALIGNED_FRAMES):
                continue  # read, or searched, on their own
            if not entry.is_dir():
                why = f"not in a camera folder (episode files, {EPISODE_NAMES}, sit in one)"
                self.skipped.append(Skipped(entry, why))
            elif entry.name in self.cameras:
                self.refusals.append(
                    InputFileError(
                        entry,
                        f"camera folder {shown(entry.name)} is also at {shown(self.cameras[entry.name])}",
                        f"keep each camera in one place, the session folder or {ALIGNED_FRAMES}/",
                    )
                )
            elif self.inside(entry):
                self.cameras[entry.name] = entry

    def episode_files(self, camera: Path) -> list[Path]:
        """The episode CSVs of a camera folder; the other files are skipped."""
        files = []
        for entry in _visible(camera):
            if shape_of(entry):  # refused unless a regular file inside the session folder
                if self.accepted(file_problem(entry, self.path)):
                    files.append(entry)
            elif entry.is_dir():
                self.skipped.append(Skipped(entry, "a folder in a camera folder, not searched"))
            else:
                self.skipped.append(Skipped(entry, skip_reason(entry)))
        return files


def twins_of(files: list[Path]) -> dict[Path, list[Path]]:
    """Files of one camera folder with the same shape and bytes: the first name -> the others.
    Only files of equal size are hashed."""
    groups: dict[tuple[Shape | None, int], list[Path]] = defaultdict(list)
    for file in files:
        groups[(shape_of(file), file.stat().st_size)].append(file)
    twins: dict[Path, list[Path]] = {}
    for group in groups.values():
        by_content: dict[str, list[Path]] = defaultdict(list)
        for file in group if len(group) > 1 else ():
            by_content[sha256_file(file)].append(file)
        twins |= {same[0]: same[1:] for same in by_content.values() if len(same) > 1}
    return twins


def scan_session_folder(path: Path) -> SessionFolder:
    """List a session folder's episode CSVs and skipped files without following links out of
    it (which refuse it)."""
    scan = _Scan(path)
    metadata = [path / name for name in METADATA_FILES if present(path / name)]
    scan.add_cameras(path)
    aligned = path / ALIGNED_FRAMES
    if aligned.is_dir() and scan.inside(aligned):
        scan.add_cameras(aligned)
    files: list[Path] = []
    twins: dict[Path, tuple[Path, ...]] = {}
    for name in sorted(scan.cameras):
        camera = scan.episode_files(scan.cameras[name])
        # a refused session's files are not read, not even to find twins
        for first, others in {} if scan.refusals else twins_of(camera).items():
            twins[first] = tuple(others)
            for other in others:
                camera.remove(other)
                scan.skipped.append(
                    Skipped(other, f"same content as {first.name}: landed once, under that name")
                )
        files += camera
    return SessionFolder(
        path,
        tuple(files),
        tuple(metadata),
        twins,
        tuple(scan.refusals),
        tuple(sorted(scan.skipped)),
    )


def read_metadata(session: SessionFolder) -> dict | None:
    """The metadata file as a mapping; None when the session has none. Both spellings with
    different content refuse the session."""
    if not session.metadata_files:
        return None
    first, *others = session.metadata_files
    for other in others:
        if other.read_bytes() != first.read_bytes():
            raise InputFileError(
                other,
                f"differs from {first}: two metadata files with different content",
                "keep one of them",
            )
    return read_yaml_mapping(
        first, "a mapping (notes, data_sources, ...)", "fix the file or remove it"
    )


def _session_date(text: str) -> str | None:
    """YYYY_MM_DD as an ISO date; None when it is no date (2025_13_40)."""
    try:
        return datetime.strptime(text, "%Y_%m_%d").date().isoformat()
    except ValueError:
        return None


def session_table(session: SessionFolder) -> pa.Table:
    """The one-row `tracking_csv_sessions` table of a session folder."""
    if session.refusals:
        raise session.refusals[0]
    metadata = read_metadata(session)
    metadata_path = session.metadata_files[0] if session.metadata_files else session.path
    text = None if metadata is None else json_text(metadata)
    name = SESSION_FOLDER_RE.match(session.path.name)
    assert name is not None, session.path  # find() only returns folders named so
    return pa.table(
        {
            "session_id": pa.array([session.session_id], pa.int64()),
            "session_name": [session.path.name],
            "source_path": [str(session.path.resolve())],
            "session_date": pa.array([_session_date(name["date"])], pa.string()),
            "session_number": pa.array([int(name["number"])], pa.int64()),
            "metadata_json": pa.array([text], pa.string()),
            "metadata_frame_rate": pa.array(
                [frame_rate(metadata or {}, metadata_path)], pa.float64()
            ),
            "num_episode_files": pa.array([len(session.files)], pa.int64()),
        }
    )


def episode_table(session: SessionFolder, file: Path, shape: Shape, rows: CsvRows) -> pa.Table:
    """The one-row `tracking_csv_episodes` table of a CSV file."""
    also_named = [twin.name for twin in session.twins.get(file, ())]
    return pa.table(
        {
            "episode_id": pa.array([session.episode_id(file)], pa.int64()),
            "session_id": pa.array([session.session_id], pa.int64()),
            "episode_number": pa.array([session.files.index(file)], pa.int64()),
            "camera": [file.parent.name],
            "modality": pa.array([modality(file.parent.name)], pa.string()),
            "file_name": [file.name],
            "also_named": pa.array([", ".join(also_named) or None], pa.string()),
            "shape": [shape.name],
            "file_path": [str(file.resolve())],
            "file_size_bytes": pa.array([file.stat().st_size], pa.int64()),
            "file_sha256": [sha256_file(file)],
            "num_rows": pa.array([rows.frames.num_rows], pa.int64()),
            "rows_without_world_point": pa.array([rows.rows_without_world_point], pa.int64()),
            "ignored_columns": pa.array([", ".join(rows.ignored) or None], pa.string()),
        }
    )


def find(path: Path) -> list[SessionFolder]:
    """The session folder at path, if it is one with at least one episode CSV."""
    if not (SESSION_FOLDER_RE.match(path.name) and path.is_dir()):
        return []
    session = scan_session_folder(path)
    return [session] if session.files or session.refusals else []


FAMILY = SourceFamily(
    name=CATEGORY,
    description="tracking session folder (YYYY_MM_DD-session_NNNN/ with an optional "
    "Metadata.yaml and one folder per camera, in it or in its aligned_frames/, holding "
    f"{EPISODE_NAMES} files; other files in it are listed as skipped)",
    find=find,
)
