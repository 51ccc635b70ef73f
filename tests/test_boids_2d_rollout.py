"""GNN rollouts (family boids_2d_rollout) on both targets: the files as the training script
writes them, discovery among weights and spec pickles, counts, pixel scaling by the source
dataset, frame alignment, attention debatching, the actual/predicted pairing and the match
to the dataset, food, divergence. Expected values come from the generator's content (what
was pickled) and direct numpy computations, never from the extract code."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from extract.discover import discover
from extract.ids import stable_id
from extract.samples.boids_2d_rollout import RolloutSpec, rollout_content
from tests.samples import ROLLOUTS, write_rollout_samples
from tests.warehouse import FAMILY_MARTS, Warehouse, built_warehouse_fixtures, marts_identical_test

FLOCK, FOOD, FOOD_POINT = ROLLOUTS
ROLLOUT_MARTS = ("rollout_errors", "rollout_summary")
PICKLE_GLOBALS = {
    "numpy._core.multiarray._reconstruct",
    "numpy.ndarray",
    "numpy.dtype",
    "torch._utils._rebuild_tensor_v2",
    "torch.storage._load_from_bytes",
    "collections.OrderedDict",
}


@pytest.fixture(scope="module")
def rollout_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rollout_samples(tmp_path_factory.mktemp("rollouts"))


duckdb_built, postgres_built, built = built_warehouse_fixtures("rollout_samples")
test_marts_identical = marts_identical_test((*FAMILY_MARTS, *ROLLOUT_MARTS))


def size(spec: RolloutSpec) -> np.ndarray:
    return np.array([spec.dataset.width, spec.dataset.height], dtype=np.float64)


def trajectories(spec: RolloutSpec) -> list[tuple[int, int, int]]:
    """(batch, trajectory in batch, dataset sample) of each trajectory, in rollout order."""
    content = rollout_content(spec)[0]
    pairs = [(b, j) for b in sorted(content) for j in range(content[b]["actual"][0].shape[0])]
    return [(b, j, sample) for (b, j), sample in zip(pairs, spec.sample_indices, strict=True)]


def episode_id(spec: RolloutSpec, batch: int, trajectory: int, role: str) -> int:
    return stable_id("boids_2d_rollout", spec.save_name, f"e0-b{batch}-t{trajectory}-{role}")


def kept_frames(spec: RolloutSpec, batch: int, trajectory: int, role: str) -> int:
    if role == "predicted" and spec.diverges and spec.diverges[:2] == (batch, trajectory):
        return spec.diverges[2]
    return spec.frames


def values(warehouse: Warehouse, episode: int, columns: str, frames: int, n: int) -> np.ndarray:
    """Columns of an episode's wide rows as [frames, N, columns], NULL as NaN."""
    rows = warehouse.query(
        f"select {columns} from marts.observation_properties_wide where episode_id = {episode} "
        "order by time_index, agent_id"
    )
    return np.array(rows, dtype=np.float64).reshape(frames, n, -1)


def expected_attention(spec: RolloutSpec, batch: dict, frame: int) -> np.ndarray:
    """[B, N, 3] self/boids/food attention, edge by edge from the pickled edge lists."""
    b, n, _ = batch["actual"][0].shape
    edges, weights = (t.numpy() for t in batch["W"][frame])
    out = np.zeros((b * n, 3))
    for (source, target), weight in zip(edges.T, weights, strict=True):
        food = spec.dataset.has_food_agent and source % n == n - 1
        kind = 0 if source == target else 2 if food else 1
        out[target, kind] += float(np.mean(weight.astype(np.float64)))
    return out.reshape(b, n, 3)


# --- the files --------------------------------------------------------------------------


class _Recorder(pickle.Unpickler):
    """Records the globals a (trusted, generated) pickle names."""

    names: set[str]

    def find_class(self, module: str, name: str) -> object:
        self.names.add(f"{module}.{name}")
        return super().find_class(module, name)


def recorded_globals(path: Path) -> tuple[object, set[str]]:
    with path.open("rb") as data:
        recorder = _Recorder(data)
        recorder.names = set()
        return recorder.load(), recorder.names


def test_files_written_like_the_training_script(rollout_samples: Path) -> None:
    folder = rollout_samples / "trained_models" / FLOCK.dataset.name / "rollouts"
    rollout = folder / f"{FLOCK.save_name}.pkl"
    assert rollout.read_bytes()[:2] == b"\x80\x04"  # plain pickle, protocol 4
    content, names = recorded_globals(rollout)
    assert names == PICKLE_GLOBALS
    batch = content[0][0]
    assert set(batch) == {"actual", "predicted", "actual_acc", "predicted_acc", "loss", "W"}
    assert batch["actual"][0].dtype == np.float32 and batch["actual"][0].shape == (3, 5, 2)
    assert batch["loss"][0].shape == () and batch["loss"][0].dtype == np.float32
    edges, weights = batch["W"][0]
    assert edges.dtype == torch.int64 and weights.shape == (edges.shape[1], FLOCK.heads)
    # the middle trajectory of batch 0 has no edges while the others have
    nodes = edges.numpy() // 5
    assert 1 not in nodes and {0, 2} <= set(nodes.ravel())
    assert len(content[0][1]["actual"][0]) == 2  # the last batch holds the rest
    for suffix, expected in (("_model_spec", FLOCK.model_spec), ("_train_spec", FLOCK.train_spec)):
        assert recorded_globals(folder / f"{FLOCK.save_name}{suffix}.pkl") == (expected, set())
    weights_file = torch.load(folder / f"{FLOCK.save_name}.pt", weights_only=True)
    assert type(weights_file).__name__ == "OrderedDict"


def test_discovered_among_weights_and_specs(rollout_samples: Path) -> None:
    found = discover([rollout_samples])
    sessions = sorted((family.name, s.path.name) for family, s in found.sessions)
    assert sessions == sorted(
        [("boids_2d", f"{spec.dataset.name}.pt") for spec in ROLLOUTS]
        + [("boids_2d_rollout", f"{spec.save_name}.pkl") for spec in ROLLOUTS]
    )
    skipped = {p.name: reason for p, reason in found.skipped}
    for spec in ROLLOUTS:
        assert skipped.pop(f"{spec.save_name}.pt") == (
            "model weights (a torch state dict), not a dataset"
        )
        for suffix in ("_model_spec", "_train_spec"):
            assert "spec pickle" in skipped.pop(f"{spec.save_name}{suffix}.pkl")
    assert skipped == {}


# --- counts, pixels, frames -------------------------------------------------------------


def test_counts(built: Warehouse) -> None:
    for spec in ROLLOUTS:
        n = spec.dataset.num_agents
        rows = built.query(
            "select e.role, count(*), sum(e.num_frames), sum(e.num_observations), "
            "min(e.first_frame), max(e.last_frame) from marts.episodes e "
            f"join marts.sessions s using (session_id) where s.session_name = '{spec.save_name}' "
            "group by e.role order by 1"
        )
        count = len(spec.sample_indices)
        lost = spec.frames - spec.diverges[2] if spec.diverges else 0
        start, end = spec.start_frame, spec.start_frame + spec.frames - 1
        assert rows == [
            ("actual", count, count * spec.frames, count * spec.frames * n, start, end),
            ("predicted", count, count * spec.frames - lost, (count * spec.frames - lost) * n, start, end),
        ], spec.save_name  # fmt: skip
    assert built.query(
        "select category_id, count(*) from marts.sessions group by 1 order by 1"
    ) == [("boids_2d", 3), ("boids_2d_rollout", 3)]


def test_positions_in_dataset_pixels_at_dataset_frames(built: Warehouse) -> None:
    for spec in ROLLOUTS:
        content, n = rollout_content(spec)[0], spec.dataset.num_agents
        for batch, j, _ in trajectories(spec):
            for role in ("actual", "predicted"):
                kept = kept_frames(spec, batch, j, role)
                expected = np.stack(content[batch][role][:kept])[:, j].astype(np.float64)
                got = values(built, episode_id(spec, batch, j, role), "time_index, x, y", kept, n)
                assert np.array_equal(got[:, 0, 0], np.arange(kept) + spec.start_frame)
                assert np.array_equal(got[..., 1:], expected * size(spec)), (spec.save_name, role)
    # 640 x 480: x by 640, y by 480 (never both by 480)
    first = rollout_content(FLOCK)[0][0]["actual"][0][0].astype(np.float64)
    got = values(built, episode_id(FLOCK, 0, 0, "actual"), "x, y", FLOCK.frames, 5)[0]
    assert np.array_equal(got, first * [640, 480])


def test_velocity_and_model_accelerations(built: Warehouse) -> None:
    columns = "x, y, v_x, v_y, rollout_acceleration_x, rollout_acceleration_y"
    for spec in ROLLOUTS:
        content, n = rollout_content(spec)[0], spec.dataset.num_agents
        for batch, j, _ in trajectories(spec):
            for role in ("actual", "predicted"):
                kept = kept_frames(spec, batch, j, role)
                got = values(built, episode_id(spec, batch, j, role), columns, kept, n)
                assert np.array_equal(got[:-1, :, 2:4], got[1:, :, :2] - got[:-1, :, :2])
                assert np.isnan(got[-1, :, 2:4]).all()
                acc = np.stack(content[batch][f"{role}_acc"][:kept])[:, j].astype(np.float64)
                assert np.array_equal(got[..., 4:], acc * size(spec))


def test_attention_debatched_by_node(built: Warehouse) -> None:
    columns = "attn_weight_self, attn_weight_boid, attn_weight_food"
    for spec in ROLLOUTS:
        content, n = rollout_content(spec)[0], spec.dataset.num_agents
        for batch, j, _ in trajectories(spec):
            kept = kept_frames(spec, batch, j, "predicted")
            expected = np.stack(
                [expected_attention(spec, content[batch], k)[j] for k in range(kept)]
            )
            if not spec.dataset.has_food_agent:
                expected[..., 2] = np.nan  # no food agent to attend to
            got = values(built, episode_id(spec, batch, j, "predicted"), columns, kept, n)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
            if (batch, j) in spec.no_edges:
                assert (got[..., :2] == 0).all()  # zero, never a neighbour's attention
            else:
                boids = got[..., 1] + np.nan_to_num(got[..., 2])
                assert ((boids == 0) | np.isclose(boids, 1.0)).all() and boids.max() > 0
            actual = values(built, episode_id(spec, batch, j, "actual"), columns, spec.frames, n)
            assert np.isnan(actual).all()
    assert built.scalar(
        "select count(*) from marts.extended_properties where property_id = 'attn_weight_food'"
    ) == sum(kept_frames(FOOD, b, j, "predicted") * 4 for b, j, _ in trajectories(FOOD))


def test_prediction_error_and_batch_loss(built: Warehouse) -> None:
    for spec in ROLLOUTS:
        content, n = rollout_content(spec)[0], spec.dataset.num_agents
        for batch, j, _ in trajectories(spec):
            kept = kept_frames(spec, batch, j, "predicted")
            predicted = np.stack(content[batch]["predicted"][:kept])[:, j] * size(spec)
            actual = np.stack(content[batch]["actual"][:kept])[:, j] * size(spec)
            got = values(
                built, episode_id(spec, batch, j, "predicted"), "prediction_error", kept, n
            )
            np.testing.assert_allclose(
                got[..., 0], np.linalg.norm(predicted - actual, axis=2), rtol=1e-12
            )
            loss = built.query(
                "select time_index, min(batch_loss), max(batch_loss) "
                "from intermediate.int_boids_2d_rollout__frames "
                f"where episode_id = {episode_id(spec, batch, j, 'actual')} group by 1 order by 1"
            )
            expected = [float(v) for v in content[batch]["loss"]]
            assert [(lo, hi) for _, lo, hi in loss] == [(v, v) for v in expected]


def test_pairs_and_dataset_match(built: Warehouse) -> None:
    for spec in ROLLOUTS:
        for batch, j, sample in trajectories(spec):
            ids = {role: episode_id(spec, batch, j, role) for role in ("actual", "predicted")}
            for role, other in (("actual", "predicted"), ("predicted", "actual")):
                row = built.query(
                    "select role, counterpart_episode_id, derived_from_episode_id, "
                    f"cast(metadata as varchar) from marts.episodes where episode_id = {ids[role]}"
                )[0]
                dataset_episode = stable_id("boids_2d", spec.dataset.name, str(sample))
                assert row[:3] == (role, ids[other], dataset_episode)
                metadata = json.loads(row[3])
                assert (metadata["batch"], metadata["trajectory"]) == (batch, j)
                assert metadata["start_frame"] == spec.start_frame
                assert metadata["dataset_sample"] == sample
    assert built.scalar(
        "select count(*) from marts.episodes d join marts.episodes r "
        "on r.derived_from_episode_id = d.episode_id where d.category_id = 'boids_2d'"
    ) == 2 * sum(len(spec.sample_indices) for spec in ROLLOUTS)


def test_diverging_prediction_keeps_frames_before(built: Warehouse) -> None:
    batch, j, k = FLOCK.diverges
    metadata = built.scalar(
        "select cast(metadata as varchar) from marts.episodes "
        f"where episode_id = {episode_id(FLOCK, batch, j, 'predicted')}"
    )
    assert json.loads(metadata)["first_non_finite_frame"] == k + FLOCK.start_frame
    assert (
        built.scalar(
            "select max(time_index) from marts.observations "
            f"where episode_id = {episode_id(FLOCK, batch, j, 'predicted')}"
        )
        == k - 1 + FLOCK.start_frame
    )


def test_food_agent_and_food_point(built: Warehouse) -> None:
    columns = "agent_type_id = 'food', distance_to_food, x, y"
    for spec, food, food_agent in (
        (FOOD, (300.0, 200.0), True),
        (FOOD_POINT, (400.0, 300.0), False),
    ):
        n = spec.dataset.num_agents
        got = values(built, episode_id(spec, 0, 0, "actual"), columns, spec.frames, n)
        assert (got[..., 0] == 1).any(axis=0).tolist() == [False] * (n - 1) + [food_agent]
        boids = got[:, : n - 1] if food_agent else got
        dx, dy = boids[..., 2] - food[0], boids[..., 3] - food[1]
        distance = np.sqrt(dx * dx + dy * dy)  # as documented, same operations
        assert np.array_equal(boids[..., 1], distance)
        if food_agent:
            assert np.isnan(got[:, -1, 1]).all() and np.allclose(got[:, -1, 2:], food)


def test_session_config_and_metadata(built: Warehouse) -> None:
    config, metadata = built.query(
        "select cast(config as varchar), cast(metadata as varchar) from marts.sessions "
        f"where session_name = '{FOOD.save_name}'"
    )[0]
    config, metadata = json.loads(config), json.loads(metadata)
    assert config["model_spec"] == FOOD.model_spec and config["train_spec"] == FOOD.train_spec
    assert config["name"] == {
        "save_name": FOOD.save_name,
        "data_name": "food_agent",
        "model_name": "gat_food_v2",
        "noise": 0.005,
        "heads": 3,
        "visual_range": 0.3,
        "seed": 1,
        "rollout_number": 0,
        "suffix": "",
    }
    assert (metadata["width"], metadata["height"], metadata["food_agent"]) == (640.0, 480.0, True)
    assert metadata["start_frame"] == 2 and metadata["num_trajectories"] == 3
    assert metadata["dataset_session_id"] == stable_id("boids_2d", "food_agent")
    assert metadata["dataset_source"].endswith("food_agent.pt")  # landed in the same run


# --- the rollout marts ------------------------------------------------------------------


def test_rollout_errors_against_numpy(built: Warehouse) -> None:
    for spec in ROLLOUTS:
        content, n = rollout_content(spec)[0], spec.dataset.num_agents
        boids = n - 1 if spec.dataset.has_food_agent else n  # the food agent is not counted
        for batch, j, _ in trajectories(spec):
            kept = kept_frames(spec, batch, j, "predicted")
            part = {
                key: np.stack(content[batch][key][:kept])[:, j, :boids].astype(np.float64)
                * size(spec)
                for key in ("actual", "predicted", "actual_acc", "predicted_acc")
            }
            error = np.linalg.norm(part["predicted"] - part["actual"], axis=2)
            acc = np.linalg.norm(part["predicted_acc"] - part["actual_acc"], axis=2)
            loss = [float(v) for v in content[batch]["loss"][:kept]]
            rows = built.query(
                "select time_index, horizon, num_agents, mean_error, median_error, max_error, "
                "mean_acceleration_error, max_acceleration_error, batch_loss, actual_episode_id "
                f"from marts.rollout_errors where episode_id = {episode_id(spec, batch, j, 'predicted')} "
                "order by time_index"
            )
            got = np.array([row[3:9] for row in rows])
            expected = np.column_stack(
                [error.mean(1), np.median(error, 1), error.max(1), acc.mean(1), acc.max(1), loss]
            )
            np.testing.assert_allclose(got, expected, rtol=1e-9)
            assert [row[:3] for row in rows] == [
                (k + spec.start_frame, k, boids) for k in range(kept)
            ]
            assert {row[9] for row in rows} == {episode_id(spec, batch, j, "actual")}


def test_rollout_summary_against_numpy(built: Warehouse) -> None:
    threshold = 10.0  # var rollout_error_threshold's default
    for spec in ROLLOUTS:
        content, n = rollout_content(spec)[0], spec.dataset.num_agents
        boids = n - 1 if spec.dataset.has_food_agent else n
        per_horizon: dict[int, list[float]] = {}
        for batch, j, _ in trajectories(spec):
            kept = kept_frames(spec, batch, j, "predicted")
            p, a = (
                np.stack(content[batch][key][:kept])[:, j, :boids].astype(np.float64) * size(spec)
                for key in ("predicted", "actual")
            )
            for k, value in enumerate(np.linalg.norm(p - a, axis=2).mean(axis=1)):
                per_horizon.setdefault(k, []).append(value)
        rows = built.query(
            "select horizon, num_trajectories, mean_error, median_error, "
            "trajectories_over_threshold, frames_until_threshold from marts.rollout_summary r "
            f"join marts.sessions s using (session_id) where s.session_name = '{spec.save_name}' "
            "order by horizon"
        )
        means = {k: float(np.mean(v)) for k, v in per_horizon.items()}
        over = [k for k in sorted(means) if means[k] > threshold]
        assert [r[:2] for r in rows] == [(k, len(v)) for k, v in sorted(per_horizon.items())]
        for row in rows:
            values = per_horizon[row[0]]
            assert row[2:4] == pytest.approx((np.mean(values), np.median(values)), rel=1e-9)
            assert row[4] == sum(v > threshold for v in values)
            assert row[5] == (over[0] if over else None)
