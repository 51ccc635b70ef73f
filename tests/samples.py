"""The inputs the tests build warehouses from: specs of generated files of each source family,
and a hand-written tracking session whose marts are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import yaml

from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_2d_rollout import RolloutSpec, write_rollout
from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.samples.tracking_csv import SessionSpec, write_session_folder

# Two 3D runs that between them exercise the quirks of real files (../shared/SOURCES.md): A
# has two targets, its agents' target columns null before frame 5; B spells its target-centre
# columns distance_to_target_center_<k>, holds float32 closest points and has no scene mesh.
RUN_A = RunSpec(
    num_episodes=2,
    num_frames=40,
    num_agents=6,
    num_targets=2,
    seed=11,
    prefix="flock-a",
    started="20250301-101500",
    target_creation_time=5,
)
RUN_B = RunSpec(
    num_episodes=1,
    num_frames=30,
    num_agents=4,
    num_targets=1,
    seed=23,
    prefix="flock-b",
    started="20250302-090000",
    spell_target_center="distance_to_target_center",
    closest_point_dtype="float32",
    scene_mesh=False,
)

# One small session of each source family, for the modules that need them all: run A, 2D
# datasets with and without food, a tracking session in the layout of the lab's pipeline
# (thermal_1 tracks, rgb_1 boxes and 3D centroids, an empty thermal_2).
RUN_3D = RUN_A
PLAIN_2D = DatasetSpec(name="family-2d", num_samples=2, steps=30, species_counts=(4, 3), seed=2)
FOOD_2D = DatasetSpec(
    name="family-2d-food", num_samples=2, steps=30, species_counts=(5,), seed=3, food=(420.0, 260.0)
)
TRACKING = SessionSpec(date="2025_06_03", number=7, num_animals=4, num_frames=50, seed=7)
ROLLOUT_2D = RolloutSpec(dataset=PLAIN_2D, sample_indices=(0, 1), batch_size=2, frames=8)
FOOD_ROLLOUT_2D = RolloutSpec(
    dataset=FOOD_2D, sample_indices=(1, 0), batch_size=1, frames=6, no_edges=(), seed=1
)


def write_family_samples(folder: Path) -> Path:
    """Write one small session of each source family into `folder` (rollouts of both 2D
    datasets under trained_models/)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_run_folder(folder, RUN_3D)
    write_dataset(folder, PLAIN_2D)
    write_dataset(folder, FOOD_2D)
    write_session_folder(folder, TRACKING)
    for rollout in (ROLLOUT_2D, FOOD_ROLLOUT_2D):
        write_rollout(folder / "trained_models", rollout)
    return folder


# Rollouts and the 2D datasets they come from: 640 x 480 with two species, the first batch's
# middle trajectory without edges and a diverging prediction in the second batch; a food
# dataset with a food agent (a model name with underscores, a smaller last batch); a food
# dataset with only a food point, 800 x 600, its class pickled as top-level
# `animal_simulation` (the two real quirks of SOURCES.md).
ROLLOUT_FLOCK = DatasetSpec(
    name="flock_two_species", num_samples=5, steps=12, species_counts=(3, 2), seed=21
)
ROLLOUT_FOOD = DatasetSpec(
    name="food_agent", num_samples=4, steps=10, species_counts=(3,), seed=22, food=(300.0, 200.0)
)
ROLLOUT_FOOD_POINT = DatasetSpec(
    name="food_point",
    num_samples=3,
    steps=10,
    species_counts=(4,),
    seed=23,
    width=800,
    height=600,
    food=(400.0, 300.0),
    food_agent=False,
    class_module="animal_simulation",
)
ROLLOUTS = (
    RolloutSpec(
        dataset=ROLLOUT_FLOCK, batch_size=3, no_edges=((0, 1),), diverges=(1, 1, 4), acc_noise=0.004
    ),
    RolloutSpec(
        dataset=ROLLOUT_FOOD,
        model_name="gat_food_v2",
        heads=3,
        seed=1,
        rollout_number=0,
        start_frame=2,
        frames=5,
        sample_indices=(3, 1, 2),
        batch_size=2,
        no_edges=((0, 1),),
    ),
    RolloutSpec(
        dataset=ROLLOUT_FOOD_POINT,
        seed=2,
        start_frame=1,
        frames=7,
        sample_indices=(2, 0, 1),
        batch_size=2,
        no_edges=(),
    ),
)


def write_rollout_samples(folder: Path) -> Path:
    """The rollouts' datasets in `folder`, the rollouts under folder/trained_models/."""
    for rollout in ROLLOUTS:
        write_dataset(folder, rollout.dataset)
        write_rollout(folder / "trained_models", rollout)
    return folder


# Generated tracking sessions: A has all three shapes and a frame rate in Metadata.yaml, B no
# Metadata.yaml at all (so the default frame rate).
GEN_A = SessionSpec(
    date="2025_06_03", number=1, layout="flat", num_animals=5, num_frames=60, frame_rate=25.0
)
GEN_B = SessionSpec(
    date="2025_06_04",
    layout="flat",
    number=2,
    cameras=(("thermal_2", "tracks"), ("rgb_2", "bboxes")),
    num_animals=3,
    num_frames=40,
    metadata=False,
    seed=9,
)

# A hand-written tracking session; tests/test_tracking_csv_marts.py works out its marts.
HAND = "2025_07_01-session_0003"
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
    # listed as skipped: not in a camera folder, not an episode CSV; ignored: hidden
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


def write_hand_session(parent: Path) -> Path:
    """Write the hand-written tracking session into `parent`; its folder."""
    folder = parent / HAND
    for name, text in HAND_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "Metadata.yaml").write_text(yaml.safe_dump(HAND_METADATA))
    return folder


# A hand-written session in the layout of the lab's pipeline (../shared/SOURCES.md, section 3);
# tests/test_tracking_csv_pipeline.py works out its marts. rgb_1's boxes are saved under two
# names with the same bytes; rgb_2 (in the session folder itself, the older place) holds two
# different bboxes files; thermal_2's tracker found nothing.
HAND_PIPELINE = "2025_08_02-session_0004"
PIPELINE_BOXES = """track_id,frame,x1,y1,x2,y2,confidence,class
1,1,10,20,30,40,0.9,0
1,2,12,20,32,40,0.8,0
1,3,14,22,34,42,0.7,0
2,0,100,100,120,110,0.6,0
2,1,102,100,122,110,0.5,0
3,1,200,200,210,220,0.4,7
"""
HAND_PIPELINE_FILES = {
    # track ids written as floats, rows grouped by track, not sorted by frame
    "aligned_frames/thermal_1/thermal_1_tracks.csv": """track_id,frame,x,y
2.0,1,50,60
1.0,3,13,23
1.0,1,10,20
1.0,2,11,22
2.0,0,48,59
""",
    "aligned_frames/thermal_1/detections_1.csv": (
        'count_objects,output_image,predictions\n1,frame_0.jpg,"[{""x"": 1, ""class"": ""0""}]"\n'
    ),
    "aligned_frames/thermal_1/thermal_1.mp4": "\x00\x00\x00\x18ftypmp42",
    "aligned_frames/thermal_1/._thermal_1_tracks.csv": "\x00\x05binary resource fork",
    "aligned_frames/thermal_2/thermal_2_tracks.csv": "track_id,frame,x,y\n",
    "aligned_frames/rgb_1/tracked_bboxes_1.csv": PIPELINE_BOXES,
    "aligned_frames/rgb_1/rgb_1_tracked_bboxes.csv": PIPELINE_BOXES,
    "aligned_frames/rgb_1/tracked_bboxes_1_with_masks.csv": (
        "track_id,frame,x1,y1,x2,y2,mask\n1,1,10,20,30,40,[[10, 20], [30, 40]]\n"
    ),
    # the pandas index first; line 3's ray missed the scene mesh
    "aligned_frames/rgb_1/rgb_1_tracked_centroids_3d.csv": """,track_id,frame,x1,y1,x2,y2,confidence,class,u,v,x,y,z
0,1,1,10,20,30,40,0.9,0,20,30,0.5,1.0,1.5
1,1,2,12,20,32,40,0.8,0,22,30,,,
2,1,3,14,22,34,42,0.7,0,24,32,0.75,1.25,1.0
4,2,1,102,100,122,110,0.5,0,112,105,2.0,2.0,0.0
""",
    "aligned_frames/rgb_1/rgb_1.mp4": "\x00\x00\x00\x18ftypmp42",
    "rgb_2/a_bboxes.csv": "track_id,frame,x1,y1,x2,y2\n5,0,0,0,2,2\n",
    "rgb_2/b_bboxes.csv": "track_id,frame,x1,y1,x2,y2\n5,0,0,0,4,4\n",
    "summary.csv": "a,b\n1,2\n",
    "notes.txt": "aligned by hand\n",
    "metadata.yaml": "notes: lowercase spelling\nfps: 10\n",
}
# Generated sessions in the pipeline's layout: one camera pair and an empty thermal camera;
# two camera pairs, no metadata file.
PIPELINE_A = SessionSpec(date="2025_08_03", number=5, num_animals=4, num_frames=60, seed=3)
PIPELINE_B = SessionSpec(
    date="2025_08_04",
    number=6,
    camera_pairs=2,
    empty_cameras=0,
    num_animals=3,
    num_frames=40,
    metadata=False,
    seed=4,
)


def write_pipeline_sessions(parent: Path) -> Path:
    """Write the hand-written pipeline session and PIPELINE_A, PIPELINE_B into `parent`."""
    for name, text in HAND_PIPELINE_FILES.items():
        path = parent / HAND_PIPELINE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    write_session_folder(parent, PIPELINE_A)
    write_session_folder(parent, PIPELINE_B)
    return parent


def pipeline_files(spec: SessionSpec, parent: Path) -> list[tuple[str, Path]]:
    """(shape, path) of each episode file of a generated pipeline session in `parent`: the boxes
    under their first name, the 3D centroids, the tracks of each camera pair."""
    cameras = parent / spec.folder_name / "aligned_frames"
    files = []
    for n in range(1, spec.camera_pairs + 1):
        files += [
            ("bboxes", cameras / f"rgb_{n}" / f"rgb_{n}_tracked_bboxes.csv"),
            ("centroids_3d", cameras / f"rgb_{n}" / f"rgb_{n}_tracked_centroids_3d.csv"),
            ("tracks", cameras / f"thermal_{n}" / f"thermal_{n}_tracks.csv"),
        ]
    return files


def write_tracking_sessions(parent: Path) -> Path:
    """Write the generated tracking sessions A and B and the hand-written one into `parent`."""
    write_session_folder(parent, GEN_A)
    write_session_folder(parent, GEN_B)
    write_hand_session(parent)
    return parent


def generated_files(spec: SessionSpec, parent: Path) -> list[tuple[str, Path]]:
    """(shape, path) of each CSV file of a generated tracking session written into `parent`."""
    return [
        (shape, parent / spec.folder_name / camera / f"{camera}_{shape}.csv")
        for camera, shape in spec.cameras
    ]
