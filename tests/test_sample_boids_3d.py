"""Content checks on the synthetic 3D boids run folders (extract.samples.boids_3d)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from extract.samples.boids_3d import (
    AGENT_PARAMS,
    BOX_SIZE,
    TARGET_RADIUS,
    RunSpec,
    main,
    write_run_folder,
)

SMALL = RunSpec(num_episodes=2, num_frames=40, num_agents=6, num_targets=2, seed=7)


def episode_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("episode-*.parquet"), key=lambda p: int(p.name.split("-")[1]))


def read_episode(folder: Path, n: int = 0) -> pa.Table:
    return pq.read_table(episode_paths(folder)[n])


def column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def points(table: pa.Table, name: str, rows: np.ndarray) -> np.ndarray:
    lists = table.column(name).filter(pa.array(rows)).combine_chunks()
    return lists.flatten().to_numpy().reshape(-1, 3)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run_folder(tmp_path_factory.mktemp("boids"), SMALL)


def test_folder_and_file_names(small_folder: Path) -> None:
    assert small_folder.name == "hackathon-boid-small-started-20250101-120000"
    names = [p.name for p in episode_paths(small_folder)]
    assert len(names) == 2
    stamps = []
    for n, name in enumerate(names):
        m = re.fullmatch(r"episode-(\d+)-completed-(\d{8}-\d{6})\.parquet", name)
        assert m and int(m.group(1)) == n
        stamps.append(m.group(2))
    assert "20250101-120000" < stamps[0] < stamps[1]
    extras = {p.name for p in small_folder.iterdir()} - set(names) - {"config.yaml"}
    assert {"package_list.txt", "episode-0-video.mp4", "episode-1-video.mp4"} <= extras
    assert any(name.endswith(".log") for name in extras)


def test_no_extra_files(tmp_path: Path) -> None:
    spec = RunSpec(num_episodes=1, num_frames=5, num_agents=3, extra_files=False)
    folder = write_run_folder(tmp_path, spec)
    assert {p.suffix for p in folder.iterdir()} == {".yaml", ".parquet"}


def test_rows_ids_and_order(small_folder: Path) -> None:
    t = read_episode(small_folder)
    entities = SMALL.num_agents + SMALL.num_targets
    assert t.num_rows == (SMALL.num_frames + 1) * entities
    time = column(t, "time").reshape(-1, entities)
    assert (time == np.arange(SMALL.num_frames + 1)[:, None]).all()
    types = np.array(t.column("type").to_pylist()).reshape(-1, entities)
    assert (types[:, : SMALL.num_agents] == "agent").all()
    assert (types[:, SMALL.num_agents :] == "env").all()
    ids = column(t, "id").reshape(-1, entities)
    assert (ids[:, : SMALL.num_agents] == np.arange(1, SMALL.num_agents + 1)).all()
    assert (ids[:, SMALL.num_agents :] == np.arange(1, SMALL.num_targets + 1)).all()


@pytest.mark.parametrize(
    ("spell", "dtype", "scene"),
    [
        ("distance_target_center", "float64", True),
        ("distance_to_target_center", "float32", True),
        ("distance_target_center", "float32", False),
        ("distance_to_target_center", "float64", False),
    ],
)
def test_schema_per_quirk(tmp_path: Path, spell: str, dtype: str, scene: bool) -> None:
    spec = RunSpec(
        num_episodes=1,
        num_frames=5,
        num_agents=3,
        num_targets=2,
        spell_target_center=spell,
        closest_point_dtype=dtype,
        scene_mesh=scene,
        extra_files=False,
    )
    schema = read_episode(write_run_folder(tmp_path, spec)).schema
    element = pa.float32() if dtype == "float32" else pa.float64()
    expected: dict[str, pa.DataType] = {
        "id": pa.int64(),
        "type": pa.string(),
        "time": pa.int64(),
        **{c: pa.float64() for c in ("x", "y", "z", "v_x", "v_y", "v_z")},
        f"{spell}_1": pa.float64(),
        f"{spell}_2": pa.float64(),
        "distance_to_target_mesh_closest_point_1": pa.float64(),
        "distance_to_target_mesh_closest_point_2": pa.float64(),
        "target_mesh_closest_point_1": element,
        "target_mesh_closest_point_2": element,
        "mesh_scene_distance": pa.float64(),
        "mesh_scene_closest_point": element if scene else pa.float64(),
    }
    assert schema.names == list(expected)
    lists = {"target_mesh_closest_point_1", "target_mesh_closest_point_2"}
    if scene:
        lists.add("mesh_scene_closest_point")
    for name, want in expected.items():
        got = schema.field(name).type
        if name in lists:
            assert pa.types.is_list(got) and got.value_type == want, name
        else:
            assert got == want, name


def test_env_rows(small_folder: Path) -> None:
    t = read_episode(small_folder)
    env = column(t, "type") == "env"
    for name in t.column_names:
        if name.startswith(("v_", "distance", "target_mesh", "mesh_scene")):
            assert t.column(name).filter(pa.array(env)).null_count == env.sum(), name
    assert not np.isnan(column(t, "x")[env]).any()
    # The env rows sit at the target centres the distance columns are measured from.
    agent = ~env & (column(t, "time") == 10)
    target1 = env & (column(t, "id") == 1) & (column(t, "time") == 10)
    xyz = np.stack([column(t, c) for c in "xyz"], axis=1)
    d = np.linalg.norm(xyz[agent] - xyz[target1], axis=1)
    assert np.allclose(d, column(t, "distance_target_center_1")[agent])


def test_agent_kinematics(small_folder: Path) -> None:
    t = read_episode(small_folder, 1)
    agent = column(t, "type") == "agent"
    p = np.stack([column(t, c)[agent] for c in "xyz"], axis=1).reshape(-1, SMALL.num_agents, 3)
    v = np.stack([column(t, c)[agent] for c in ("v_x", "v_y", "v_z")], axis=1)
    v = v.reshape(-1, SMALL.num_agents, 3)
    assert np.allclose(p[1:] - p[:-1], v[:-1], atol=1e-9)
    speed = np.linalg.norm(v, axis=2)
    assert speed.min() >= AGENT_PARAMS["min_speed"] - 1e-9
    assert speed.max() <= AGENT_PARAMS["max_speed"] + 1e-9
    margin = 0.2 * BOX_SIZE
    assert (p > -margin).all() and (p < BOX_SIZE + margin).all()


def test_mesh_geometry(small_folder: Path) -> None:
    t = read_episode(small_folder)
    agent = column(t, "type") == "agent"
    xyz = np.stack([column(t, c) for c in "xyz"], axis=1)[agent]
    d_centre = column(t, "distance_target_center_1")[agent]
    d_mesh = column(t, "distance_to_target_mesh_closest_point_1")[agent]
    assert np.allclose(d_mesh, np.maximum(d_centre - TARGET_RADIUS, 0.0))
    closest = points(t, "target_mesh_closest_point_1", agent)
    outside = d_centre > TARGET_RADIUS
    assert np.allclose(np.linalg.norm(xyz - closest, axis=1)[outside], d_mesh[outside])
    assert np.allclose(column(t, "mesh_scene_distance")[agent], np.abs(xyz[:, 1]))
    ground = points(t, "mesh_scene_closest_point", agent)
    assert np.allclose(ground, xyz * [1.0, 0.0, 1.0])


def test_no_scene_mesh_sentinel(tmp_path: Path) -> None:
    spec = RunSpec(num_episodes=1, num_frames=5, num_agents=3, scene_mesh=False)
    folder = write_run_folder(tmp_path, spec)
    t = read_episode(folder)
    assert not any(pa.types.is_list(f.type) for f in t.schema if f.name.startswith("mesh_scene"))
    agent = column(t, "type") == "agent"
    for name in ("mesh_scene_distance", "mesh_scene_closest_point"):
        values = column(t, name)
        assert (values[agent] == -1.0).all()
        assert np.isnan(values[~agent]).all()
    assert yaml.safe_load((folder / "config.yaml").read_text())["meshes"]["mesh_scene"] is None


def test_float32_lists(tmp_path: Path) -> None:
    spec = RunSpec(num_episodes=1, num_frames=5, num_agents=3, closest_point_dtype="float32")
    t = read_episode(write_run_folder(tmp_path, spec))
    for name in ("target_mesh_closest_point_1", "mesh_scene_closest_point"):
        assert t.schema.field(name).type.value_type == pa.float32()
        first = t.column(name)[0].as_py()
        assert len(first) == 3


def test_target_creation_time(tmp_path: Path) -> None:
    spec = RunSpec(num_episodes=1, num_frames=20, num_agents=4, target_creation_time=8)
    t = read_episode(write_run_folder(tmp_path, spec))
    agent = column(t, "type") == "agent"
    before = agent & (column(t, "time") < 8)
    after = agent & ~before
    for name in (
        "distance_target_center_1",
        "distance_to_target_mesh_closest_point_1",
        "target_mesh_closest_point_1",
    ):
        null = t.column(name).is_null().to_numpy(zero_copy_only=False)
        assert null[before].all() and not null[after].any(), name
    assert not t.column("mesh_scene_distance").filter(pa.array(after)).null_count
    assert not t.column("mesh_scene_distance").filter(pa.array(before)).null_count


def test_deterministic(tmp_path: Path) -> None:
    a = write_run_folder(tmp_path / "a", SMALL)
    b = write_run_folder(tmp_path / "b", SMALL)
    files_a = sorted(p.name for p in a.iterdir())
    assert files_a == sorted(p.name for p in b.iterdir())
    for name in files_a:
        if name.endswith(".parquet"):
            assert pq.read_table(a / name).equals(pq.read_table(b / name))
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    other = write_run_folder(tmp_path / "c", RunSpec(**{**SMALL.__dict__, "seed": 8}))
    assert not read_episode(other).equals(read_episode(a))


def test_config(small_folder: Path) -> None:
    cfg = yaml.safe_load((small_folder / "config.yaml").read_text())
    assert {"simulator", "agent", "environment", "meshes", "visuals", "tracks"} <= set(cfg)
    sim = cfg["simulator"]
    assert sim["num_agents"] == SMALL.num_agents
    assert sim["num_targets"] == SMALL.num_targets
    assert sim["num_frames"] == SMALL.num_frames
    assert sim["num_episodes"] == SMALL.num_episodes
    assert sim["seed"] == [7, 8]
    assert sim["target_creation_time"] == [0, 0]
    assert cfg["visuals"]["video_fps"] == 30
    env = cfg["environment"]
    assert env["box_size"] == BOX_SIZE and env["scene_scale"] > 0
    assert len(env["scene_position"]) == 3
    assert cfg["meshes"]["mesh_scene"] and cfg["meshes"]["sub_mesh_target"]
    assert {"neighborhood_dist", "max_speed", "cohesion_weight"} <= set(cfg["agent"])
    flat = yaml.safe_dump(cfg)
    assert "frame_rate" not in flat and "\nfps" not in flat


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(tmp_path), "--episodes", "1", "--frames", "4", "--agents", "3", "--targets", "2"]
    args += ["--spell-to-target-center", "--float32", "--no-scene-mesh", "--no-extra-files"]
    assert main([*args, "--target-creation-time", "2", "--seed", "3"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    t = read_episode(folder)
    assert t.num_rows == 5 * 5
    assert "distance_to_target_center_2" in t.column_names
    assert t.schema.field("mesh_scene_distance").type == pa.float64()
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert "--no-scene-mesh" in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad",
    [{"num_agents": 0}, {"spell_target_center": "dist"}, {"closest_point_dtype": "int8"}],
)
def test_spec_validation(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RunSpec(**bad)  # type: ignore[arg-type]
