"""Runs at the same time on one warehouse, for real (processes started together): extracts land
one at a time (the second waits, saying for which), an extract committing during a build never
leaves the marts stale (after the next build they equal a full refresh), two builds at once
say that another is running, and a load that fails part-way lands nothing."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.settings import PostgresSettings
from tests.source_facts import episode_files
from tests.warehouse import (
    ANALYTICS_MARTS,
    MARTS,
    TARGETS,
    Warehouse,
    environment,
    new_warehouse,
    rows_match,
    table_contents,
)

SPEC = RunSpec(num_episodes=3, num_frames=30, num_agents=4, seed=21, prefix="conc")
CHANGED = RunSpec(num_episodes=3, num_frames=45, num_agents=4, seed=22, prefix="conc")
OTHER = RunSpec(num_episodes=2, num_frames=20, num_agents=4, seed=23, prefix="other")
# The builds of this module: seeds and models (the data tests would only add time).
BUILD = ("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def rows_of(spec: RunSpec) -> int:
    """Frame rows of one episode file of a spec (agents and the target, frames 0..N)."""
    return (spec.num_frames + 1) * (spec.num_agents + 1)


def together(*procs: subprocess.Popen[str]) -> list[tuple[int, str]]:
    """Wait for processes started together; (exit status, output) of each."""
    results = []
    for proc in procs:
        out, err = proc.communicate()
        results.append((proc.returncode, out + (err or "")))
    return results


def assert_raw(warehouse: Warehouse, episodes: dict[str, int]) -> None:
    """raw holds each row once: the frames of the episodes {file name: rows}, one episode,
    episode load and landed file row each."""
    assert warehouse.scalar("select count(*) from raw.boids_3d_frames") == sum(episodes.values())
    duplicates = (
        "select count(*) from (select episode_id, time, id, type from raw.boids_3d_frames "
        "group by 1, 2, 3, 4 having count(*) > 1) d"
    )
    assert warehouse.scalar(duplicates) == 0
    for table in ("boids_3d_episodes", "episode_loads", "landed_files"):
        assert warehouse.scalar(f"select count(*) from raw.{table}") == len(episodes), table
    landed = warehouse.query(
        "select e.file_name, e.num_rows from raw.boids_3d_episodes e "
        "join raw.landed_files f on f.file_name = e.file_name"
    )
    assert dict(landed) == episodes


@pytest.mark.parametrize("target", TARGETS)
def test_two_extracts_at_once_land_one_after_the_other(target: str, tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "data", SPEC)
    other = write_run_folder(tmp_path / "other", OTHER)
    changed = write_run_folder(tmp_path / "changed", CHANGED)
    expected = {f.name: rows_of(SPEC) for f in episode_files(run)}
    with new_warehouse(target, tmp_path / "wh") as warehouse:

        def race(first: tuple[str | Path, ...], second: tuple[str | Path, ...]) -> list[str]:
            results = together(warehouse.start_extract(*first), warehouse.start_extract(*second))
            assert [code for code, _ in results] == [0, 0], results
            assert "Traceback" not in "".join(out for _, out in results)
            assert_raw(warehouse, expected)
            return [out for _, out in results]

        # the same files (both land everything), a changed file, two different runs
        outputs = race(("--force", run), ("--force", run))
        shutil.copyfile(episode_files(changed)[1], episode_files(run)[1])
        expected[episode_files(run)[1].name] = rows_of(CHANGED)
        outputs += race((run,), (run,))
        expected |= {f.name: rows_of(OTHER) for f in episode_files(other)}
        outputs += race((run,), (other,))
        # the runs overlapped: one waited for the other, and said for which
        waited = [out for out in outputs if "waiting: " in out]
        assert waited
        holder = "in use by another process (pid " if target == "duckdb" else "tracking extract"
        assert all(holder in out for out in waited)
        assert (
            warehouse.scalar(
                "select count(*) from information_schema.schemata where schema_name like 'raw_load_%'"
            )
            == 0
        )


def per_episode_marts(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """Every mart's rows (the analytics ones compared within FLOAT_TOLERANCE)."""
    return {mart: table_contents(warehouse, mart)[1] for mart in MARTS}


def assert_equals_full_refresh(warehouse: Warehouse) -> None:
    """The marts as built equal those of a full refresh from the same raw rows."""
    built = per_episode_marts(warehouse)
    warehouse.dbt(*BUILD, "--full-refresh")
    full = per_episode_marts(warehouse)
    for mart, rows in full.items():
        assert len(built[mart]) == len(rows), mart
        for a, b in zip(built[mart], rows, strict=True):
            assert rows_match(a, b, mart in ANALYTICS_MARTS), (mart, a, b)


def assert_changed_episode_built(warehouse: Warehouse, run: Path) -> None:
    """The marts hold the changed episode file's rows."""
    name = episode_files(run)[1].name
    assert warehouse.query(
        "select e.num_frames, count(*) from marts.episodes e join marts.observations o "
        f"using (episode_id) where e.file_name = '{name}' group by 1"
    ) == [(CHANGED.num_frames + 1, rows_of(CHANGED))]


def wait_for(condition: object, proc: subprocess.Popen[str], what: str) -> None:
    """Poll until condition() holds while the process runs."""
    while not condition():  # type: ignore[operator]
        assert proc.poll() is None, f"dbt ended before {what}:\n{proc.communicate()[0][-3000:]}"
        time.sleep(0.05)


@contextlib.contextmanager
def writes_blocked(warehouse: Warehouse, table: str) -> Iterator[None]:
    """Postgres: hold a lock that makes any write to the table wait, until the block ends."""
    with environment(warehouse.env):
        settings = PostgresSettings.from_env()
    with contextlib.closing(psycopg2.connect(**settings.connect_kwargs())) as conn:
        with conn.cursor() as cur:
            cur.execute(f"lock table {table} in share mode")
            yield
        conn.rollback()


def waits_on_lock(warehouse: Warehouse, table: str) -> bool:
    """Postgres: a session waits for a lock on the table."""
    waiting = f"select count(*) from pg_locks where relation = '{table}'::regclass and not granted"
    return warehouse.scalar(waiting) > 0


def registered_builds(warehouse: Warehouse) -> int:
    """Postgres: the builds registered as running (0 before the first build registered)."""
    [(count,)] = warehouse.query(
        "select count(*) from pg_tables where schemaname = 'intermediate' "
        "and tablename = 'running_build'"
    )
    return count and warehouse.scalar("select count(*) from intermediate.running_build")


def test_extract_during_build_postgres(tmp_path: Path) -> None:
    """The build reads an episode's old rows; the extract commits its new ones before the
    build records what it built (it waits to write marts.observations meanwhile). The next
    build rebuilds the episode. Also: a killed build is taken over, and of two builds at
    once one says that another is running."""
    run = write_run_folder(tmp_path / "data", SPEC)
    changed = write_run_folder(tmp_path / "changed", CHANGED)
    with new_warehouse("postgres", tmp_path / "wh") as warehouse:
        assert warehouse.extract(run) == 0
        # a build killed while it runs: the next one takes its place
        killed = warehouse.start_dbt(*BUILD, target_path=tmp_path / "killed")
        wait_for(lambda: registered_builds(warehouse) > 0, killed, "it registered")
        killed.send_signal(signal.SIGKILL)
        killed.communicate()
        warehouse.dbt(*BUILD, "--vars", "{stale_build_seconds: 1}")

        shutil.copyfile(episode_files(changed)[1], episode_files(run)[1])
        with writes_blocked(warehouse, "marts.observations"):
            build = warehouse.start_dbt(*BUILD, target_path=tmp_path / "race")
            wait_for(lambda: waits_on_lock(warehouse, "marts.observations"), build, "it waited")
            assert warehouse.extract(run) == 0
        [(code, out)] = together(build)
        assert code == 0, out[-3000:]

        # the next build, twice at once: one builds, the other says another build runs
        results = together(
            warehouse.start_dbt(*BUILD, target_path=tmp_path / "a"),
            warehouse.start_dbt(*BUILD, target_path=tmp_path / "b"),
        )
        assert sorted(code for code, _ in results) == [0, 2], results
        refused = next(out for code, out in results if code == 2)
        assert "another dbt build is running on this warehouse" in refused
        assert_equals_full_refresh(warehouse)
        assert_changed_episode_built(warehouse, run)


def test_extract_during_build_duckdb(tmp_path: Path) -> None:
    """On DuckDB the build holds the warehouse file: an extract started meanwhile waits for
    it, naming the build's process, and lands after it; two builds at once: the second stops,
    naming the first's process."""
    run = write_run_folder(tmp_path / "data", SPEC)
    changed = write_run_folder(tmp_path / "changed", CHANGED)
    with new_warehouse("duckdb", tmp_path / "wh") as warehouse:
        assert warehouse.extract(run) == 0
        warehouse.dbt(*BUILD)
        shutil.copyfile(episode_files(changed)[1], episode_files(run)[1])
        log = warehouse.workdir / "dbt-logs" / "dbt.log"
        started = log.read_text().count("START hook: tracking.on-run-start.0")
        build = warehouse.start_dbt(*BUILD, target_path=tmp_path / "race")
        wait_for(
            lambda: log.read_text().count("START hook: tracking.on-run-start.0") > started,
            build,
            "it opened the warehouse",
        )
        [(build_code, build_out), (code, out)] = together(build, warehouse.start_extract(run))
        assert build_code == 0, build_out[-3000:]
        assert code == 0, out
        assert f"in use by another process (pid {build.pid}: " in out

        results = together(
            warehouse.start_dbt(*BUILD, target_path=tmp_path / "a"),
            warehouse.start_dbt(*BUILD, target_path=tmp_path / "b"),
        )
        assert sorted(code for code, _ in results) == [0, 2], results
        assert "Conflicting lock is held" in next(out for code, out in results if code == 2)
        # (builds and extracts never overlap on DuckDB, so the marts cannot go stale: the
        # build after the extract built the new rows into the per-episode marts)
        assert_changed_episode_built(warehouse, run)


@pytest.mark.parametrize("target", TARGETS)
def test_write_error_lands_nothing(target: str, tmp_path: Path, capsys) -> None:
    """A write that fails after the frames were written (raw.landed_files made a view) rolls
    back the whole run: the message says nothing was landed, and it is true."""
    run = write_run_folder(tmp_path / "data", SPEC)
    changed = write_run_folder(tmp_path / "changed", CHANGED)
    with new_warehouse(target, tmp_path / "wh") as warehouse:
        assert warehouse.extract(run) == 0
        before = warehouse.query("select * from raw.boids_3d_frames order by 1, 2, 3, 4")
        loads = warehouse.query("select * from raw.episode_loads order by 1")
        warehouse.execute("alter table raw.landed_files rename to landed_files_kept")
        # (distinct: not a view Postgres could write through)
        warehouse.execute(
            "create view raw.landed_files as select distinct * from raw.landed_files_kept"
        )
        shutil.copyfile(episode_files(changed)[1], episode_files(run)[1])
        capsys.readouterr()
        assert warehouse.extract(run) == 3
        err = capsys.readouterr().err
        assert "writing raw.landed_files failed" in err and "nothing was landed" in err
        assert warehouse.query("select * from raw.boids_3d_frames order by 1, 2, 3, 4") == before
        assert warehouse.query("select * from raw.episode_loads order by 1") == loads

        warehouse.execute("drop view raw.landed_files")
        warehouse.execute("alter table raw.landed_files_kept rename to landed_files")
        assert warehouse.extract(run) == 0
        assert_raw(
            warehouse,
            {f.name: rows_of(SPEC) for f in episode_files(run)}
            | {episode_files(run)[1].name: rows_of(CHANGED)},
        )
