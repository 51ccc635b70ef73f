"""The keys of the large marts hold on both targets: (observation_id, property_id) of
extended_properties, observation_id and the natural key (episode_id, time_index, agent_id,
agent_type_id) of observations and observation_properties_wide.

Postgres enforces them while writing, with unique indexes: extended_properties' is on
(episode_id, property_key, observation_id), with the foreign keys (observation_id, episode_id)
-> observations and (property_id, property_key) -> property_definitions that `dbt build` tests
(an observation belongs to one episode, a key to one property id, so the index covers the
key). DuckDB, where the project creates no indexes, checks them with dbt tests."""

from __future__ import annotations

from pathlib import Path

from extract.samples.boids_3d import RunSpec, write_run_folder
from tests.warehouse import Warehouse

SPEC = RunSpec(num_episodes=2, num_frames=12, num_agents=3, seed=31, prefix="keys")
EAV = "marts.extended_properties"
ONE_VALUE = (
    f"select observation_id, episode_id, property_id from {EAV} "
    "order by observation_id, property_id limit 1"
)
EAV_TESTS = ("--select", "extended_properties", "--exclude-resource-type", "unit_test")
EAV_KEY_TEST = "unique_by_sort_extended_properties_observation_id__property_key"


def failing(statuses: dict[str, str]) -> set[str]:
    """The names of the tests that did not pass."""
    return {name for name, status in statuses.items() if status != "pass"}


def key_repeats(warehouse: Warehouse, rows: str) -> list[tuple]:
    """What the EAV's key test (unique_by_sort) finds in `rows` (a query of EAV rows), its SQL
    compiled for the warehouse's target: on Postgres too, where the test is disabled."""
    compiled = warehouse.dbt(
        "compile",
        "--quiet",
        "--inline",
        f"{{{{ test_unique_by_sort('({rows}) as checked', ['observation_id', 'property_key']) }}}}",
    )
    return warehouse.query(f"{compiled.stdout.strip()} order by 1, 2")


def test_duplicates_and_misplaced_values_are_caught(
    empty_warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse = empty_warehouse
    warehouse.build(write_run_folder(tmp_path / "data", SPEC))
    statuses = warehouse.test_statuses(*EAV_TESTS)
    assert len(statuses) == (4 if warehouse.target == "postgres" else 5)
    assert not failing(statuses)
    rows = warehouse.scalar(f"select count(*) from {EAV}")

    # the key test's own SQL on each target finds each repeat: every value of one observation
    # three times, one value of another twice
    first, second = (
        o
        for (o,) in warehouse.query(f"select distinct observation_id from {EAV} order by 1 limit 2")
    )
    of_first = f"select * from {EAV} where observation_id = {first}"
    one_of_second = (
        f"select * from {EAV} where observation_id = {second} order by property_key limit 1"
    )
    assert key_repeats(warehouse, f"select * from {EAV}") == []
    assert key_repeats(
        warehouse,
        f"select * from {EAV} union all {of_first} union all {of_first} "
        f"union all ({one_of_second})",
    ) == sorted(
        [
            (first, key, 3)
            for (key,) in warehouse.query(f"select property_key from ({of_first}) as o")
        ]
        + [(second, warehouse.query(one_of_second)[0][3], 2)]
    )

    # an observation twice in the computed kinematics reaches the model when its episode is
    # rebuilt: five computed values twice
    kinematics = "intermediate.int_computed__kinematics"
    twice, its_episode = warehouse.query(
        f"select observation_id, episode_id from {kinematics} "
        "where acceleration_magnitude is not null order by observation_id limit 1"
    )[0]
    warehouse.execute(
        f"insert into {kinematics} select * from {kinematics} where observation_id = {twice}; "
        f"update raw.episode_loads set load_seq = load_seq + 1 where episode_id = {its_episode}"
    )
    run = warehouse.dbt("run", "--select", "extended_properties", check=False)
    if warehouse.target == "postgres":
        # refused while writing: the rebuild's transaction left the table as it was
        assert run.returncode != 0
        assert "duplicate key value violates unique constraint" in run.stdout
    else:
        assert run.returncode == 0
        assert warehouse.scalar(f"select count(*) from {EAV}") == rows + 5
        assert failing(warehouse.test_statuses(*EAV_TESTS)) == {EAV_KEY_TEST}
        # one row per repeated key, naming it: the five keys of that observation, twice each
        [key_test] = [r for r in warehouse.run_results() if EAV_KEY_TEST in r["unique_id"]]
        repeats = warehouse.query(f"{key_test['compiled_code']} order by 2")
        assert len(repeats) == 5 and {(o, n) for o, _, n in repeats} == {(twice, 2)}
        assert repeats == warehouse.query(
            f"select observation_id, property_key, count(*) from {EAV} "
            "group by observation_id, property_key having count(*) > 1 order by 2"
        )
        warehouse.execute(
            f"delete from {EAV} where rowid in (select max(rowid) from {EAV} "
            "group by observation_id, property_id having count(*) > 1)"
        )
    assert warehouse.scalar(f"select count(*) from {EAV}") == rows

    # a value moved to the other episode: the index allows it, the foreign key does not
    observation_id, episode_id, property_id = warehouse.query(ONE_VALUE)[0]
    other = warehouse.scalar(
        f"select min(episode_id) from marts.episodes where episode_id <> {episode_id}"
    )
    warehouse.execute(
        f"update {EAV} set episode_id = {other} "
        f"where observation_id = {observation_id} and property_id = '{property_id}'"
    )
    assert failing(warehouse.test_statuses(*EAV_TESTS)) == {
        "foreign_key_extended_properties_observation_id__episode_id__observation_id__episode_id__ref_observations_"
    }


OBSERVATION_MODELS = ("observations", "observation_properties_wide")
NOT_NULL_OBSERVATIONS = (
    "not_null_columns_observations_observation_id__episode_id__time_index__agent_id__"
    "agent_type_id__x__y"
)


def test_nulls_and_repeated_keys_are_caught(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    """not_null_columns (several columns' not_null in one test) names each column holding
    NULLs; primary_key (unique and not_null in one) fails on a repeated and on a NULL key."""
    warehouse = empty_warehouse
    warehouse.build(write_run_folder(tmp_path / "data", SPEC))
    tests = ("--select", "observations", "episodes", "--exclude-resource-type", "unit_test")
    assert not failing(warehouse.test_statuses(*tests))
    first, second = warehouse.query(
        "select observation_id from marts.observations order by observation_id limit 2"
    )
    warehouse.execute(
        f"update marts.observations set y = null where observation_id = {first[0]}; "
        f"update marts.observations set x = null, y = null where observation_id = {second[0]}; "
        "insert into marts.episodes select * from marts.episodes "
        "where episode_id = (select min(episode_id) from marts.episodes)"
    )
    assert failing(warehouse.test_statuses(*tests)) == {
        NOT_NULL_OBSERVATIONS,
        "primary_key_episodes_episode_id",
    }
    [nulls] = [r for r in warehouse.run_results() if NOT_NULL_OBSERVATIONS in r["unique_id"]]
    assert nulls["failures"] == 2  # one row per column: x (1 row), y (2 rows)
    failed = warehouse.query(
        f"select column_name, null_rows from ({nulls['compiled_code']}) as failed order by 1"
    )
    assert failed == [("x", 1), ("y", 2)]

    # a NULL key
    warehouse.execute(
        "update marts.sessions set session_id = null "
        "where session_id = (select min(session_id) from marts.sessions)"
    )
    assert "primary_key_sessions_session_id" in failing(
        warehouse.test_statuses("--select", "sessions", "--exclude-resource-type", "unit_test")
    )


def test_duplicate_observations_are_caught(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse = empty_warehouse
    warehouse.build(write_run_folder(tmp_path / "data", SPEC))
    tests = ("--select", *OBSERVATION_MODELS, "--exclude-resource-type", "unit_test")
    assert not failing(warehouse.test_statuses(*tests))
    counts = {
        model: warehouse.scalar(f"select count(*) from marts.{model}")
        for model in OBSERVATION_MODELS
    }

    # a frame row twice in the raw table reaches both models when its episode is rebuilt
    episode = warehouse.scalar("select min(episode_id) from raw.boids_3d_frames")
    warehouse.execute(
        "insert into raw.boids_3d_frames select * from raw.boids_3d_frames "
        f"where episode_id = {episode} and time = 3 and type = 'agent' and id = 1; "
        f"update raw.episode_loads set load_seq = load_seq + 1 where episode_id = {episode}"
    )
    run = warehouse.dbt("run", "--select", *OBSERVATION_MODELS, check=False)
    if warehouse.target == "postgres":
        # refused while writing, by the unique index on observation_id or the natural key:
        # each model's transaction left its table as it was
        assert run.returncode != 0
        assert run.stdout.count("duplicate key value violates unique constraint") == 2
        added = 0
    else:
        assert run.returncode == 0
        assert failing(warehouse.test_statuses(*tests)) == {
            "unique_by_sort_observations_observation_id",
            "unique_by_sort_observations_episode_id__time_index__agent_id__agent_type_id",
            "unique_by_sort_observation_properties_wide_observation_id",
            "unique_by_sort_observation_properties_wide_episode_id__time_index__agent_id__agent_type_id",
        }
        added = 1
    for model, count in counts.items():
        assert warehouse.scalar(f"select count(*) from marts.{model}") == count + added


WIDE_PARENT_TEST = "relationships_by_sort_observation_properties_wide_observation_id__observation_id__ref_observations_"


def missing_parents(warehouse: Warehouse, rows: str) -> list[tuple]:
    """What the wide model's relationships test (relationships_by_sort) finds in `rows` (a query
    of rows with an observation_id), its SQL compiled for the warehouse's target."""
    compiled = warehouse.dbt(
        "compile",
        "--quiet",
        "--inline",
        f"{{{{ test_relationships_by_sort('({rows}) as checked', 'observation_id', "
        "'marts.observations', 'observation_id') }}",
    )
    return warehouse.query(f"{compiled.stdout.strip()} order by 1")


def test_missing_parents_are_found(empty_warehouse: Warehouse, tmp_path: Path) -> None:
    """relationships_by_sort names each child key without a parent and its child rows, as an
    anti-join does; NULL keys have none to miss."""
    warehouse = empty_warehouse
    warehouse.build(write_run_folder(tmp_path / "data", SPEC))
    wide = "select observation_id from marts.observation_properties_wide"
    assert missing_parents(warehouse, wide) == []

    # keys before, among and after the parents' in their order: once, three times, twice
    first = warehouse.scalar("select min(observation_id) from marts.observations")
    extra = [(-1, 1), (first + 1, 3), (2**63 - 1, 2)]
    rows = " union all ".join(
        [wide, "select cast(null as bigint)"]
        + [f"select cast({key} as bigint)" for key, count in extra for _ in range(count)]
    )
    found = missing_parents(warehouse, rows)
    assert found == extra
    assert found == warehouse.query(
        f"select observation_id, count(*) from ({rows}) as child "
        "where observation_id is not null and not exists (select 1 from marts.observations "
        "as parent where parent.observation_id = child.observation_id) group by 1 order by 1"
    )

    # an observation gone from its parent: the build's test of the wide model names it
    warehouse.execute(f"delete from marts.observations where observation_id = {first}")
    tests = ("--select", "observation_properties_wide", "--exclude-resource-type", "unit_test")
    assert failing(warehouse.test_statuses(*tests)) == {WIDE_PARENT_TEST}
    [parent_test] = [r for r in warehouse.run_results() if WIDE_PARENT_TEST in r["unique_id"]]
    assert warehouse.query(parent_test["compiled_code"]) == [(first, 1)]
