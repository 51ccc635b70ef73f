"""Hostile paths (issue #20, items 7 and 8): inputs that hung the extract or crashed it with a
traceback (FIFOs, /dev/zero links, link loops, folders named like files, names that are not
UTF-8, self-referencing or deep configs) and symbolic links out of a session, of every family,
are refused naming the path (exit 1); --skip-invalid skips them like any other bad file; and
searching a folder never follows a symbolic link."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import torch

from extract.cli import main as extract_main
from extract.errors import shown
from extract.path_safety import LINK_NOT_FOLLOWED
from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_2d_rollout import RolloutSpec, write_rollout
from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.settings import REPO_ROOT
from tests.source_facts import episode_files
from tests.warehouse import Warehouse, duckdb_warehouse

RUN = RunSpec(num_episodes=1, num_frames=5, num_agents=2, seed=1)
EPISODE = "episode-9-completed-20250101-000000.parquet"
SECRET = "password: hunter2\n"


def run_folder(data: Path, prefix: str) -> Path:
    return write_run_folder(data, replace(RUN, prefix=prefix))


def tracking_session(data: Path, number: int) -> Path:
    """A tracking session with one camera and one tracks file."""
    folder = data / f"2025_01_01-session_{number:04d}"
    (folder / "cam").mkdir(parents=True)
    (folder / "cam" / "a_tracks.csv").write_text("track_id,frame,x,y\n1,0,1,2\n1,1,2,3\n")
    return folder


def dataset(folder: Path, name: str) -> Path:
    return write_dataset(
        folder, DatasetSpec(name=name, num_samples=1, steps=8, species_counts=(3,), seed=1)
    )


# Each case writes one hostile input under `data` (anything it links to under `outside`, which
# is not searched) and returns the path the error names and the problem it states.
Case = Callable[[Path, Path], tuple[Path, str]]
FIFO = "is a FIFO (named pipe), not a regular file"
FOLDER = "is a folder, not a regular file"


def _fifo_episode(data: Path, outside: Path) -> tuple[Path, str]:
    path = run_folder(data, "fifo") / EPISODE
    os.mkfifo(path)
    return path, FIFO


def _dev_zero_episode(data: Path, outside: Path) -> tuple[Path, str]:
    run = run_folder(data, "zero")
    os.symlink("/dev/zero", run / EPISODE)
    return run / EPISODE, f"is a link to /dev/zero, outside the session folder {run}"


def _looping_episode(data: Path, outside: Path) -> tuple[Path, str]:
    path = run_folder(data, "loop") / EPISODE
    os.symlink(path.name, path)
    return path, "is a symbolic link loop"


def _folder_episode(data: Path, outside: Path) -> tuple[Path, str]:
    path = run_folder(data, "folder") / EPISODE
    path.mkdir()
    return path, FOLDER


def _not_utf8_folder(data: Path, outside: Path) -> tuple[Path, str]:
    run = run_folder(data / "plain", "latin")
    renamed = data / os.fsdecode(b"caf\xe9")
    os.rename(data / "plain", renamed)
    return renamed / run.name, "the path is not valid UTF-8"


def _self_referencing_yaml(data: Path, outside: Path) -> tuple[Path, str]:
    config = run_folder(data, "cycle") / "config.yaml"
    config.write_text("simulator: &s {num_agents: 2, again: *s}\n")
    return config, "a value contains itself (a cycle), which JSON cannot hold"


def _config_linked_out(data: Path, outside: Path) -> tuple[Path, str]:
    run = run_folder(data, "linked")
    (outside / "secret.yaml").write_text(SECRET)
    (run / "config.yaml").unlink()
    os.symlink(outside / "secret.yaml", run / "config.yaml")
    return (
        run / "config.yaml",
        f"is a link to {outside / 'secret.yaml'}, outside the session folder {run}",
    )


def _episode_linked_out(data: Path, outside: Path) -> tuple[Path, str]:
    run = run_folder(data, "borrowed")
    episode = episode_files(run)[0]
    shutil.move(episode, outside / episode.name)
    os.symlink(outside / episode.name, episode)
    return episode, f"is a link to {outside / episode.name}, outside the session folder {run}"


def _fifo_dataset(data: Path, outside: Path) -> tuple[Path, str]:
    os.mkfifo(data / "fifo_2d.pt")
    return data / "fifo_2d.pt", FIFO


def _cyclic_2d_config(data: Path, outside: Path) -> tuple[Path, str]:
    dataset(data, "cyclic_2d")
    config: dict = {"A": {"visual_range": 0.1}}
    config["A"]["again"] = config
    torch.save(config, data / "cyclic_2d_config.pt")
    return data / "cyclic_2d_config.pt", "a value contains itself (a cycle), which JSON cannot hold"


def _2d_config_linked_out(data: Path, outside: Path) -> tuple[Path, str]:
    dataset(data, "linked_2d")
    torch.save({"A": {"token": "hunter2"}}, outside / "secret_config.pt")
    (data / "linked_2d_config.pt").unlink()
    os.symlink(outside / "secret_config.pt", data / "linked_2d_config.pt")
    return (
        data / "linked_2d_config.pt",
        f"is a link to {outside / 'secret_config.pt'}, outside the session folder {data}",
    )


def _fifo_tracking_csv(data: Path, outside: Path) -> tuple[Path, str]:
    path = tracking_session(data, 1) / "cam" / "b_tracks.csv"
    os.mkfifo(path)
    return path, FIFO


def _dev_zero_tracking_csv(data: Path, outside: Path) -> tuple[Path, str]:
    folder = tracking_session(data, 2)
    os.symlink("/dev/zero", folder / "cam" / "b_tracks.csv")
    return (
        folder / "cam" / "b_tracks.csv",
        f"is a link to /dev/zero, outside the session folder {folder}",
    )


def _folder_tracking_csv(data: Path, outside: Path) -> tuple[Path, str]:
    path = tracking_session(data, 3) / "cam" / "b_tracks.csv"
    path.mkdir()
    return path, FOLDER


def _deep_metadata(data: Path, outside: Path) -> tuple[Path, str]:
    path = tracking_session(data, 4) / "Metadata.yaml"
    path.write_text("notes: " + "[" * 3000 + "]" * 3000 + "\n")
    return path, "nested more than 100 levels deep"


def _fifo_rollout(data: Path, outside: Path) -> tuple[Path, str]:
    path = data / "some_data_gat_n0.005_h2_vr0.1_s0_rollout1.pkl"
    os.mkfifo(path)
    return path, FIFO


def _rollout(folder: Path, name: str) -> Path:
    spec = RolloutSpec(
        dataset=DatasetSpec(name=name, num_samples=2, steps=8, species_counts=(3,), seed=2),
        sample_indices=(0, 1),
        batch_size=2,
        frames=4,
    )
    return write_rollout(folder, spec)


def _spec_linked_out(data: Path, outside: Path) -> tuple[Path, str]:
    dataset(data, "spec_linked")  # a rollout's dataset given in the same run
    rollout = _rollout(data / "trained_models", "spec_linked")
    spec = rollout.with_name(rollout.stem + "_model_spec.pkl")
    shutil.move(spec, outside / spec.name)
    os.symlink(outside / spec.name, spec)
    return spec, f"is a link to {outside / spec.name}, outside the session folder {spec.parent}"


def _dataset_beside_linked_out(data: Path, outside: Path) -> tuple[Path, str]:
    rollout = _rollout(data / "models", "beside_linked")
    real = dataset(outside, "beside_linked")
    os.symlink(real, rollout.with_name(real.name))
    return (
        rollout.with_name(real.name),
        f"is a link to {real}, outside the session folder {rollout.parent}",
    )


CASES: dict[str, Case] = {
    "3D: FIFO episode file": _fifo_episode,
    "3D: /dev/zero link episode file": _dev_zero_episode,
    "3D: episode link loop": _looping_episode,
    "3D: folder named like an episode file": _folder_episode,
    "3D: folder name not UTF-8": _not_utf8_folder,
    "3D: self-referencing YAML": _self_referencing_yaml,
    "3D: config.yaml linked out": _config_linked_out,
    "3D: episode file linked out": _episode_linked_out,
    "2D: FIFO dataset file": _fifo_dataset,
    "2D: cyclic dict in the config": _cyclic_2d_config,
    "2D: config linked out": _2d_config_linked_out,
    "tracking: FIFO CSV": _fifo_tracking_csv,
    "tracking: /dev/zero link CSV": _dev_zero_tracking_csv,
    "tracking: folder named like a CSV": _folder_tracking_csv,
    "tracking: 3,000-level YAML": _deep_metadata,
    "rollout: FIFO rollout file": _fifo_rollout,
    "rollout: spec pickle linked out": _spec_linked_out,
    "rollout: dataset beside it linked out": _dataset_beside_linked_out,
}
# reading these hung the extract for ever: run in a subprocess, with a timeout
HANGS = {name for name in CASES if "FIFO" in name or "/dev/zero" in name}


def run_cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "extract" / "run.py"), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def folders(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "data").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path / "data", tmp_path / "outside"


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_refused_naming_it(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, outside = folders(tmp_path)
    path, problem = CASES[case](data, outside)
    # no warehouse: a rollout's dataset is looked up there first
    monkeypatch.setenv("TRACKING_DUCKDB_PATH", str(tmp_path / "none.duckdb"))
    if case in HANGS:
        result = run_cli("--check", data)
        status, err = result.returncode, result.stderr
        assert "Traceback" not in result.stdout + err
    else:
        status, err = extract_main(["--check", str(data)]), capsys.readouterr().err
    assert status == 1, err
    assert f"error: {shown(path)}: {problem}" in err
    assert "nothing was landed." in err


def test_skip_invalid_skips_every_hostile_input(tmp_path: Path) -> None:
    """All the cases in one folder beside valid sessions, landed in a real DuckDB warehouse by
    the CLI: the valid sessions land, each hostile input is listed, none of the linked files'
    content lands."""
    data, outside = folders(tmp_path)
    expected = [CASES[name](data, outside) for name in sorted(CASES)]
    good_run, good_tracking = run_folder(data, "good"), tracking_session(data, 9)
    warehouse = tmp_path / "w.duckdb"
    result = run_cli("--skip-invalid", data, env={"TRACKING_DUCKDB_PATH": str(warehouse)})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"refused {len(CASES)} input(s):" in result.stderr
    for path, problem in expected:
        assert f"  {shown(path)}: {problem}" in result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as conn:

        def names(family: str) -> list[str]:
            table = f"raw.{family}_sessions"
            return [r[0] for r in conn.execute(f"select session_name from {table}").fetchall()]

        assert names("boids_3d") == [good_run.name]
        assert names("tracking_csv") == [good_tracking.name]
        assert names("boids_2d") == ["spec_linked"]  # the datasets whose config is whole
        configs = conn.execute(
            "select config_json from raw.boids_3d_sessions union all "
            "select config_json from raw.boids_2d_sessions"
        ).fetchall()
    assert not any("hunter2" in text for (text,) in configs)


# --- searching follows no link; links inside a session are followed -------------------------


def test_searching_does_not_follow_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`latest -> run` loaded the run a second time under another name, and a link to the
    searched folder itself made the search endless."""
    data = tmp_path / "data"
    run = run_folder(data, "searched")
    os.symlink(run.name, data / "latest")
    os.symlink(".", data / "loop")
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(data) == 0
        out = capsys.readouterr().out
        for link in ("latest", "loop"):
            assert f"skipped {data / link}: {LINK_NOT_FOLLOWED}" in out
        assert sessions(warehouse) == [(run.name, 1)]
        # a link given as a PATH is its target: the same session, unchanged
        assert warehouse.extract(data / "latest") == 0
        assert "1 unchanged file(s) skipped" in capsys.readouterr().out
        assert sessions(warehouse) == [(run.name, 1)]


def sessions(warehouse: Warehouse) -> list[tuple[str, int]]:
    return warehouse.query(
        "select s.session_name, count(*) from raw.boids_3d_sessions s "
        "join raw.boids_3d_episodes e using (session_id) group by 1"
    )


def test_links_inside_a_session_are_followed(tmp_path: Path) -> None:
    run = run_folder(tmp_path / "data", "inside")
    (run / "configs").mkdir()
    shutil.move(run / "config.yaml", run / "configs" / "config.yaml")
    os.symlink(Path("configs") / "config.yaml", run / "config.yaml")
    (episode,) = episode_files(run)
    rows = pq.read_table(episode).num_rows
    shutil.move(episode, run / "configs" / episode.name)
    os.symlink(run / "configs" / episode.name, episode)
    with duckdb_warehouse(tmp_path / "wh") as warehouse:
        assert warehouse.extract(run) == 0
        assert sessions(warehouse) == [(run.name, 1)]
        assert warehouse.scalar("select count(*) from raw.boids_3d_frames") == rows
