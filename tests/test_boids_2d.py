"""2D boids `.pt` datasets: safe loading, pixel scaling, derived velocities and food, on both
targets. Expected values are computed from the generator's arrays (what was pickled), not by
the extract code."""

from __future__ import annotations

import json
import os
import pickletools
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from extract.errors import InputFileError
from extract.ids import stable_id
from extract.safe_pickle import DATASET_CLASS, load_torch_file
from extract.samples.boids_2d import (
    AnimalTrajectoryDataset,
    DatasetSpec,
    samples,
    save_pt,
    species_config,
    write_dataset,
)
from extract.sources.boids_2d import DatasetFile, find, read_dataset
from tests.source_facts import observation_id
from tests.warehouse import (
    Warehouse,
    built_warehouse_fixtures,
    marts_identical_test,
)

# Between them: the dataset object and a plain list, numpy 1 and numpy 2 pickles, numpy and
# tensor payloads, pixel size from the dataset, the config and the default, food datasets.
FLOCK = DatasetSpec(name="flock", num_samples=3, steps=8, species_counts=(3, 2), seed=1)
LEGACY = DatasetSpec(
    name="legacy",
    num_samples=2,
    steps=5,
    species_counts=(4,),
    seed=2,
    container="list",
    numpy_paths="numpy1",
    config=False,
)
TENSORS = DatasetSpec(
    name="tensors",
    num_samples=2,
    steps=6,
    species_counts=(2, 2),
    seed=3,
    width=800,
    height=600,
    payload="tensor",
)
FOOD = DatasetSpec(
    name="food", num_samples=2, steps=7, species_counts=(4,), seed=4, food=(320.5, 200.25)
)
# the legacy format (a plain list pickled as numpy 1 writes it) with food, its size in the config
FOOD_LIST = replace(
    LEGACY,
    name="food-list",
    species_counts=(3,),
    seed=5,
    width=800,
    height=600,
    food=(100.0, 50.0),
    config=True,
)
SPECS = (FLOCK, LEGACY, TENSORS, FOOD, FOOD_LIST)
# (width, height, where from) each dataset must be scaled by
SIZES = {
    "flock": (640.0, 480.0, "dataset"),
    "legacy": (480.0, 480.0, "default"),
    "tensors": (800.0, 600.0, "dataset"),
    "food": (640.0, 480.0, "dataset"),
    "food-list": (800.0, 600.0, "config"),
}
RAW_TABLES = ("boids_2d_sessions", "boids_2d_episodes", "boids_2d_frames")
MART_TABLES = ("sessions", "episodes", "observations", "extended_properties")


def pixels(spec: DatasetSpec) -> list[np.ndarray]:
    """The source positions of each sample in pixels, [T, N, 2]."""
    width, height, _ = SIZES[spec.name]
    return [np.asarray(p, dtype=np.float64) * [width, height] for p, _ in samples(spec)[0]]


def episode_id(spec: DatasetSpec, sample: int) -> int:
    return stable_id("boids_2d", spec.name, str(sample))


def observations(warehouse: Warehouse, spec: DatasetSpec, sample: int, columns: str) -> np.ndarray:
    """Columns of one episode's observations as an array [T, N, columns], NULL as NaN."""
    rows = warehouse.query(
        f"select {columns} from marts.observations where episode_id = {episode_id(spec, sample)} "
        "order by time_index, agent_id"
    )
    return np.array(rows, dtype=np.float64).reshape(spec.steps, spec.num_agents, -1)


def snapshot(warehouse: Warehouse) -> dict[str, int]:
    """Row counts of the 2D raw tables, the extract bookkeeping and the marts."""
    tables = [f"raw.{t}" for t in (*RAW_TABLES, "landed_files", "episode_loads")]
    tables += [f"marts.{t}" for t in MART_TABLES]
    return {t: warehouse.scalar(f"select count(*) from {t}") for t in tables}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("boids_2d")
    for spec in SPECS:
        write_dataset(folder, spec)
    return folder


duckdb_built, postgres_built, built = built_warehouse_fixtures("datasets")


# --- the generated files pickle like the real ones ---------------------------------------


def pickle_globals(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        (member,) = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        data = archive.read(member)
    return {
        str(a).replace(" ", ".") for op, a, _ in pickletools.genops(data) if op.name == "GLOBAL"
    }


def test_generated_files_pickle_like_real_ones(datasets: Path) -> None:
    numpy2 = {"numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype"}
    numpy1 = {"numpy.core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype"}
    assert pickle_globals(datasets / "flock.pt") == {DATASET_CLASS, "_codecs.encode", *numpy2}
    assert pickle_globals(datasets / "legacy.pt") == {"_codecs.encode", *numpy1}
    assert DATASET_CLASS in pickle_globals(datasets / "tensors.pt")
    assert pickle_globals(datasets / "food_config.pt") == set()  # plain dict of numbers
    flock = load_torch_file(datasets / "flock.pt")
    assert list(vars(flock)) == ["width", "height", "sequences", "species_to_idx", "N"]
    positions, species = flock.sequences[0]
    assert type(positions) is np.ndarray and positions.dtype == np.float64
    assert positions.shape == (FLOCK.steps, 5, 2)
    assert species == [0, 0, 0, 1, 1] and all(type(s) is int for s in species)
    legacy = load_torch_file(datasets / "legacy.pt")
    assert type(legacy) is list and type(legacy[0][0]) is np.ndarray
    tensors = load_torch_file(datasets / "tensors.pt").sequences[0]
    assert tensors[0].dtype == torch.float32 and tensors[1].dtype == torch.int64
    config = load_torch_file(datasets / "food_config.pt")
    assert config["food0"] == {"x": 320.5, "y": 200.25, "counts": 1}
    assert config["A"]["food"] == config["food0"] and config["A"]["width"] == 640
    food = load_torch_file(datasets / "food.pt")
    assert food.species_to_idx == {"A": 0, "food0": 1} and food.sequences[0][1][-1] == 1
    assert (food.sequences[0][0][:, -1] == food.sequences[0][0][0, -1]).all()  # never moves


# --- counts, pixels, velocities, food, on both targets -----------------------------------


def test_counts(built: Warehouse) -> None:
    for spec in SPECS:
        got = built.scalar(
            "select count(*) from marts.observations o join marts.episodes e using (episode_id) "
            f"join marts.sessions s using (session_id) where s.session_name = '{spec.name}'"
        )
        assert got == spec.num_samples * spec.steps * spec.num_agents, spec.name
    frames = sum(s.num_samples * s.steps * s.num_agents for s in SPECS)
    assert frames == 3 * 8 * 5 + 2 * 5 * 4 + 2 * 6 * 4 + 2 * 7 * 5 + 2 * 5 * 4
    assert built.scalar("select count(*) from raw.boids_2d_frames") == frames
    rows = built.query(
        "select s.session_name, e.episode_number, e.episode_name, e.num_frames, e.num_agents, "
        "e.num_environment_entities, e.frame_rate, e.file_name, e.category_id "
        "from marts.episodes e join marts.sessions s using (session_id) "
        "where s.session_name in ('flock', 'food') order by 1, 2"
    )
    assert rows == [
        ("flock", 0, "sample-0", 8, 5, 0, 30.0, "flock.pt", "boids_2d"),
        ("flock", 1, "sample-1", 8, 5, 0, 30.0, "flock.pt", "boids_2d"),
        ("flock", 2, "sample-2", 8, 5, 0, 30.0, "flock.pt", "boids_2d"),
        ("food", 0, "sample-0", 7, 4, 1, 30.0, "food.pt", "boids_2d"),
        ("food", 1, "sample-1", 7, 4, 1, 30.0, "food.pt", "boids_2d"),
    ]
    assert built.query(
        "select category_id, count(*), sum(num_episodes) from marts.sessions group by 1"
    ) == [("boids_2d", len(SPECS), sum(s.num_samples for s in SPECS))]


def test_positions_in_pixels(built: Warehouse) -> None:
    for spec in SPECS:
        for sample, expected in enumerate(pixels(spec)):
            got = observations(built, spec, sample, "x, y, z")
            assert np.array_equal(got[..., :2], expected), (spec.name, sample)
            assert np.isnan(got[..., 2]).all()
    # 640 x 480 data: x scaled by 640 and y by 480 (never both by 480)
    normalised = np.asarray(samples(FLOCK)[0][1][0])
    got = observations(built, FLOCK, 1, "x, y")
    assert np.array_equal(got[..., 0], normalised[..., 0] * 640)
    assert np.array_equal(got[..., 1], normalised[..., 1] * 480)


def test_session_config_and_metadata(built: Warehouse) -> None:
    for spec in SPECS:
        config, metadata = built.query(
            "select cast(config as varchar), cast(metadata as varchar) from marts.sessions "
            f"where session_name = '{spec.name}'"
        )[0]
        expected = json.loads(json.dumps(species_config(spec))) if spec.config else None
        assert (json.loads(config) if config else None) == expected, spec.name
        meta = json.loads(metadata)
        width, height, source = SIZES[spec.name]
        assert (meta["width"], meta["height"], meta["size_source"]) == (width, height, source)
        assert meta["num_agents"] == spec.num_agents and meta["num_samples"] == spec.num_samples
        dataset = spec.container == "dataset"
        assert meta["container"] == ("AnimalTrajectoryDataset" if dataset else "list")
        assert meta["species_to_idx"] == (samples(spec)[1] if dataset else None)
        food = (meta["food_x"], meta["food_y"])
        assert food == (spec.food if spec.food else (None, None))


def test_velocity_is_forward_difference(built: Warehouse) -> None:
    for spec in SPECS:
        for sample, source in enumerate(pixels(spec)):
            got = observations(built, spec, sample, "v_x, v_y, v_z")
            assert np.array_equal(got[:-1, :, :2], source[1:] - source[:-1]), spec.name
            assert np.isnan(got[-1]).all()  # the last frame has no next position
            assert np.isnan(got[..., 2]).all()
    # the difference of the source's normalised positions, in pixels per frame
    normalised = np.asarray(samples(TENSORS)[0][0][0], dtype=np.float64)
    got = observations(built, TENSORS, 0, "v_x, v_y")
    expected = (normalised[1:] - normalised[:-1]) * [800.0, 600.0]
    assert np.allclose(got[:-1], expected, rtol=1e-12, atol=1e-9)


def test_food(built: Warehouse) -> None:
    assert built.query(
        "select agent_type_id, count(*) from marts.observations group by 1 order by 1"
    ) == [
        ("agent", sum(s.num_samples * s.steps * sum(s.species_counts) for s in SPECS)),
        ("food", 2 * 7 + 2 * 5),
    ]
    for spec in (FOOD, FOOD_LIST):
        n = spec.num_agents
        for sample, source in enumerate(pixels(spec)):
            types = built.query(
                "select distinct agent_id, agent_type_id from marts.observations "
                f"where episode_id = {episode_id(spec, sample)} order by 1"
            )
            assert types == [(a, "agent") for a in range(n - 1)] + [(n - 1, "food")]
            food = observations(built, spec, sample, "x, y, v_x, v_y")[:, -1]
            assert (food[:, :2] == spec.food).all()
            assert (food[:-1, 2:] == 0).all() and np.isnan(food[-1, 2:]).all()
            rows = built.query(
                "select o.time_index, o.agent_id, p.value_float from marts.extended_properties p "
                "join marts.observations o using (observation_id) "
                f"where o.episode_id = {episode_id(spec, sample)} "
                "and p.property_id = 'distance_to_food' order by 1, 2"
            )
            offset = source[:, : n - 1] - np.array(spec.food)
            expected = np.sqrt(offset[..., 0] * offset[..., 0] + offset[..., 1] * offset[..., 1])
            assert [(t, a) for t, a, _ in rows] == [
                (t, a) for t in range(spec.steps) for a in range(n - 1)
            ]
            assert np.array_equal([v for _, _, v in rows], expected.ravel())
    # distance_to_food in food datasets only
    assert built.query(
        "select s.session_name, count(*) from marts.extended_properties p "
        "join marts.episodes e using (episode_id) join marts.sessions s using (session_id) "
        "where p.property_id = 'distance_to_food' group by 1 order by 1"
    ) == [("food", 2 * 7 * 4), ("food-list", 2 * 5 * 3)]


def test_observation_id_is_documented_hash(built: Warehouse) -> None:
    ep = episode_id(FOOD, 1)
    assert built.observation_id(ep, 3, "food", 4) == observation_id(ep, 3, "food", 4)


test_marts_identical_on_both_targets = marts_identical_test()


# --- refused inputs land nothing, on both targets ----------------------------------------


class _System:
    """Unpickling this runs `touch <trace>` through os.system."""

    def __init__(self, trace: Path) -> None:
        self.trace = trace

    def __reduce__(self) -> tuple:
        return os.system, (f"touch {self.trace}",)


class _Exec:
    """Unpickling this runs Python code that writes <trace>."""

    def __init__(self, trace: Path) -> None:
        self.trace = trace

    def __reduce__(self) -> tuple:
        return exec, (f"open({str(self.trace)!r}, 'w').write('pwned')",)


# keyed by the global as the pickle records it (protocol 2 writes builtins as `__builtin__`)
PAYLOADS = {f"{os.system.__module__}.system": _System, "__builtin__.exec": _Exec}


def write_malicious(path: Path, payload: type, trace: Path, *, as_config: bool) -> Path:
    """A dataset (or its config) carrying a payload; returns the dataset file."""
    good = write_dataset(path.parent, DatasetSpec(name=path.stem, num_samples=1, steps=3))
    evil = path.with_name(f"{path.stem}_config.pt") if as_config else good
    content = {"A": payload(trace)} if as_config else [(np.zeros((3, 2, 2)), payload(trace))]
    torch.save(content, evil)
    return good


@pytest.mark.parametrize("as_config", [False, True], ids=["dataset", "config"])
@pytest.mark.parametrize("refused", sorted(PAYLOADS))
def test_malicious_pickle_runs_nothing_and_lands_nothing(
    built: Warehouse,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    refused: str,
    as_config: bool,
) -> None:
    payload = PAYLOADS[refused]
    # the payload is live: plain unpickling leaves the trace
    control = write_malicious(
        tmp_path / "control" / "c.pt", payload, tmp_path / "ran", as_config=as_config
    )
    torch.load(control.with_name("c_config.pt") if as_config else control, weights_only=False)
    assert (tmp_path / "ran").exists()

    trace = tmp_path / "trace"
    evil = write_malicious(tmp_path / "in" / "evil.pt", payload, trace, as_config=as_config)
    innocent = write_dataset(tmp_path / "in", DatasetSpec(name="innocent", num_samples=1, steps=3))
    before = snapshot(built)
    assert built.extract(innocent, evil) == 1
    assert not trace.exists()
    assert snapshot(built) == before
    assert not built.query("select 1 from raw.boids_2d_sessions where session_name = 'innocent'")
    err = capsys.readouterr().err
    bad_file = evil.with_name("evil_config.pt") if as_config else evil
    assert f"{bad_file}: refused to load: the pickle references {refused}," in err
    assert "nothing was landed" in err


def bad_dataset(path: Path, sequences: list, n: int) -> Path:
    dataset = AnimalTrajectoryDataset()
    dataset.__dict__.update(
        width=640, height=480, sequences=sequences, species_to_idx={"A": 0}, N=n
    )
    save_pt(dataset, path)
    return path


GOOD = np.full((5, 4, 2), 0.5)
BAD_SHAPES = {
    "xyz positions": (
        [(GOOD, [0] * 4), (np.zeros((5, 4, 3)), [0] * 4)],
        4,
        "sample 1: positions have shape [5, 4, 3], expected [T, N, 2]",
    ),
    "flat positions": (
        [(np.zeros((5, 8)), [0] * 4)],
        4,
        "sample 0: positions have shape [5, 8], expected [T, N, 2]",
    ),
    "species vs N": (
        [(GOOD, [0] * 4), (GOOD, [0] * 3)],
        4,
        "sample 1: species has shape [3] but the positions hold 4 agents",
    ),
    "dataset N": (
        [(GOOD, [0] * 4)],
        5,
        "sample 0: positions hold 4 agents but the dataset's N is 5",
    ),
    "no samples": ([], 4, "the dataset holds no samples"),
    "not finite": (
        [(np.where(np.arange(40).reshape(5, 4, 2) == 13, np.nan, 0.5), [0] * 4)],
        4,
        "sample 0: position at frame 1, agent 2 is not a finite number",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SHAPES))
def test_bad_shapes_refused_and_nothing_lands(built: Warehouse, tmp_path: Path, case: str) -> None:
    sequences, n, problem = BAD_SHAPES[case]
    bad = bad_dataset(tmp_path / "bad.pt", sequences, n)
    with pytest.raises(InputFileError) as refused:
        DatasetFile(bad).read_episode(bad)
    assert str(refused.value) == f"{bad}: {problem}"
    innocent = write_dataset(tmp_path, DatasetSpec(name="innocent", num_samples=1, steps=3))
    before = snapshot(built)
    assert built.extract(innocent, bad) == 1
    assert snapshot(built) == before


# --- the loader and the size rules (no warehouse) ----------------------------------------


def test_damaged_files_refused(tmp_path: Path, datasets: Path) -> None:
    whole = (datasets / "flock.pt").read_bytes()
    cases = {
        "empty.pt": (b"", "the file is empty"),
        "truncated.pt": (whole[: len(whole) // 2], "not a torch.save zip archive"),
        "text.pt": (b"x,y\n1,2\n", "not a torch.save zip archive"),
    }
    for name, (content, problem) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputFileError, match=problem):
            load_torch_file(tmp_path / name)
    with zipfile.ZipFile(tmp_path / "other.pt", "w") as archive:
        archive.writestr("other/readme.txt", "not a checkpoint")
    with pytest.raises(InputFileError, match=r"holds no single data\.pkl"):
        load_torch_file(tmp_path / "other.pt")
    # pickle protocol 4 names globals through the stack: refused unread
    torch.save([(np.zeros((2, 1, 2)), [0])], tmp_path / "proto4.pt", pickle_protocol=4)
    with pytest.raises(InputFileError, match="STACK_GLOBAL"):
        load_torch_file(tmp_path / "proto4.pt")


def test_size_rules(tmp_path: Path) -> None:
    sequences = [(np.full((2, 3, 2), 0.25), [0, 0, 0])]
    save_pt(sequences, tmp_path / "scene.pt")
    save_pt({"A": {"counts": 3}, "scene_size": 500}, tmp_path / "scene_config.pt")
    dataset = read_dataset(tmp_path / "scene.pt", tmp_path / "scene_config.pt")
    assert (dataset.width, dataset.height, dataset.size_source) == (500.0, 500.0, "config")
    save_pt(
        {"A": {"width": 640, "height": 480}, "B": {"width": 800, "height": 600}}, tmp_path / "c.pt"
    )
    with pytest.raises(InputFileError, match="species entries state different width/height"):
        read_dataset(tmp_path / "scene.pt", tmp_path / "c.pt")
    # a food position stated normalised is recognised by the food agent's track and scaled
    food = [(np.full((2, 3, 2), 0.5), [0, 0, 1])]
    save_pt(food, tmp_path / "f.pt")
    save_pt({"A": {"width": 640, "height": 480}, "food0": {"x": 0.5, "y": 0.5}}, tmp_path / "n.pt")
    assert read_dataset(tmp_path / "f.pt", tmp_path / "n.pt").food == (320.0, 240.0)
    save_pt({"A": {"width": 640, "height": 480}, "food0": {"x": 10, "y": 10}}, tmp_path / "w.pt")
    with pytest.raises(InputFileError, match=r"the last agent \(the food\) is not at"):
        read_dataset(tmp_path / "f.pt", tmp_path / "w.pt")


def test_config_is_not_a_session(tmp_path: Path, datasets: Path) -> None:
    shutil.copy(datasets / "food_config.pt", tmp_path / "lonely_config.pt")
    assert find(tmp_path / "lonely_config.pt") == []
    assert find(datasets / "food_config.pt") == []
    assert find(datasets) == []  # folders are searched by discover, file by file
    (session,) = find(datasets / "food.pt")
    assert session.config_path == datasets / "food_config.pt"
    assert find(datasets / "legacy.pt")[0].config_path is None
