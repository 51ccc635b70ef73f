"""Export of 2D boids sessions as `.pt` datasets: a dataset file -> warehouse -> `.pt` gives the
original arrays bit for bit, the same species, sizes and config, on both targets; the file
loads through the project's safe loader and through plain torch.load with the lab's class;
landing it again changes nothing in the marts."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from extract.safe_pickle import AnimalTrajectoryDataset, load_torch_file
from extract.samples.boids_2d import CLASS_MODULE, DatasetSpec, write_dataset
from extract.temporary import temporarily_set
from tests.export_helpers import export
from tests.warehouse import Warehouse, built_warehouse_fixtures

# The dataset object with two species and with a food agent (the config states the food), and
# a plain list pickled as numpy 1 writes it, without a config (default size 480 x 480).
FLOCK = DatasetSpec(name="flock", num_samples=3, steps=9, species_counts=(3, 2), seed=31)
FOOD = DatasetSpec(
    name="food", num_samples=2, steps=7, species_counts=(4,), seed=32, food=(320.5, 200.25)
)
LEGACY = DatasetSpec(
    name="legacy",
    num_samples=2,
    steps=5,
    species_counts=(3,),
    seed=33,
    container="list",
    numpy_paths="numpy1",
    config=False,
)
SPECS = (FLOCK, FOOD, LEGACY)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export_2d")
    for spec in SPECS:
        write_dataset(folder, spec)
    return folder


duckdb_built, postgres_built, built = built_warehouse_fixtures("datasets")


def samples_of(content: object) -> list:
    """The samples of a loaded dataset file (the object's sequences, or the list itself)."""
    return content.sequences if isinstance(content, AnimalTrajectoryDataset) else content


def assert_same_dataset(original: object, exported: object) -> None:
    """Same container, attributes and samples; positions bit-identical float64 arrays."""
    assert type(exported) is type(original)
    if isinstance(original, AnimalTrajectoryDataset):
        attributes = {k: v for k, v in vars(original).items() if k != "sequences"}
        assert {k: v for k, v in vars(exported).items() if k != "sequences"} == attributes
    assert len(samples_of(exported)) == len(samples_of(original))
    for (positions, species), (want_positions, want_species) in zip(
        samples_of(exported), samples_of(original), strict=True
    ):
        assert isinstance(positions, np.ndarray) and positions.dtype == np.float64
        assert positions.shape == want_positions.shape
        assert positions.tobytes() == want_positions.tobytes()  # bit for bit
        assert species == list(want_species)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_pt_round_trip_is_bit_identical(
    built: Warehouse, datasets: Path, tmp_path: Path, spec: DatasetSpec
) -> None:
    out = tmp_path / f"{spec.name}-out.pt"
    assert export(built, "--session", spec.name, "--format", "pt", out) == 0
    assert_same_dataset(load_torch_file(datasets / f"{spec.name}.pt"), load_torch_file(out))
    config = out.with_name(f"{out.stem}_config.pt")
    if spec.config:
        assert load_torch_file(config) == load_torch_file(datasets / f"{spec.name}_config.pt")
    else:
        assert not config.exists()


def test_pt_loads_with_the_labs_class(built: Warehouse, datasets: Path, tmp_path: Path) -> None:
    """Plain torch.load(weights_only=False), the lab's class importable, as its training code
    loads a dataset: an instance of that class, usable by a DataLoader."""

    class LabDataset(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(self.sequences)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
            positions, species = self.sequences[i]
            return torch.tensor(positions, dtype=torch.float32), torch.tensor(species)

    parts = CLASS_MODULE.split(".")
    modules = {
        ".".join(parts[:i]): types.ModuleType(".".join(parts[:i])) for i in range(1, len(parts) + 1)
    }
    modules[CLASS_MODULE].AnimalTrajectoryDataset = LabDataset
    out = tmp_path / "flock.pt"
    assert export(built, "--session", FLOCK.name, "--format", "pt", out) == 0
    with temporarily_set(sys.modules, modules):
        dataset = torch.load(out, weights_only=False)
    assert isinstance(dataset, LabDataset)
    assert (dataset.width, dataset.height, dataset.N) == (FLOCK.width, FLOCK.height, 5)
    batch, species = next(iter(torch.utils.data.DataLoader(dataset, batch_size=2)))
    assert batch.shape == (2, FLOCK.steps, 5, 2)
    assert species.tolist() == [[0, 0, 0, 1, 1]] * 2


def test_pt_of_chosen_episodes_and_of_several_sessions(
    built: Warehouse, datasets: Path, tmp_path: Path
) -> None:
    ids = [
        row[0]
        for row in built.query(
            "select e.episode_id from marts.episodes e join marts.sessions s using (session_id) "
            f"where s.session_name = '{FLOCK.name}' and e.episode_number in (0, 2) order by 1"
        )
    ]
    one = tmp_path / "two-samples.pt"
    assert export(built, "--episode", ids[0], "--episode", ids[1], "--format", "pt", one) == 0
    original = samples_of(load_torch_file(datasets / f"{FLOCK.name}.pt"))
    exported = samples_of(load_torch_file(one))
    assert [p.tobytes() for p, _ in exported] == [
        p.tobytes() for p, _ in (original[0], original[2])
    ]
    # a folder: one file per session, named as the session
    assert export(built, "--category", "boids_2d", "--format", "pt", tmp_path / "all") == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(
        [f"{s.name}.pt" for s in SPECS] + [f"{s.name}_config.pt" for s in SPECS if s.config]
    )
    # one .pt file cannot hold two sessions; nothing is written
    refused = tmp_path / "refused.pt"
    assert export(built, "--category", "boids_2d", "--format", "pt", refused) == 1
    assert not refused.exists()


def test_pt_refusals_write_nothing(built: Warehouse, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.pt"
    assert export(built, "--session", "no-such-session", "--format", "pt", out) == 1
    assert "unknown session 'no-such-session'" in capsys.readouterr().err
    assert export(built, "--session", FOOD.name, "--agent-type", "food", "--format", "pt", out) == 1
    assert "--agent-type" in capsys.readouterr().err
    assert export(built, "--category", "boids_2d", "--config", "A.visual_range=1", "--list") == 1
    assert "values found are 50.0" in capsys.readouterr().err
    assert export(built, "--session", FOOD.name, "--format", "pt", out) == 0
    assert export(built, "--session", FOOD.name, "--format", "pt", out) == 1  # exists
    assert "--force" in capsys.readouterr().err
    assert export(built, "--session", FOOD.name, "--format", "pt", "--force", out) == 0
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_landing_the_export_again_changes_nothing(
    built: Warehouse, datasets: Path, tmp_path: Path
) -> None:
    """Runs last in the module: it lands the exported files (same session names) into the
    module's warehouse. Only the files' paths and fingerprints differ."""
    marts = (
        "select episode_id, time_index, agent_type_id, agent_id, x, y, v_x, v_y, species, "
        "distance_to_food from marts.observation_properties_wide order by 1, 2, 3, 4",
        "select observation_id, property_id, value_float from marts.extended_properties "
        "order by 1, 2",
        "select session_id, session_name, cast(config as varchar), num_episodes "
        "from marts.sessions order by 1",
        "select episode_id, episode_number, num_frames, num_agents from marts.episodes order by 1",
    )
    before = [built.query(q) for q in marts]
    out = tmp_path / "again"
    assert export(built, "--category", "boids_2d", "--format", "pt", out) == 0
    built.build(out)
    landed = built.query("select distinct file_path from marts.episodes order by 1")
    assert [Path(p).parent for (p,) in landed] == [out.resolve()] * len(SPECS)
    after = [built.query(q) for q in marts]
    assert all(rows for rows in before)
    assert after == before
