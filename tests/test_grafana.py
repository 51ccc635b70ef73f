"""Grafana: provisioning files, the four dashboards and the read-only role.

The dashboards are checked against a real Postgres warehouse built (real extract CLI, real
`dbt build`) from generated files of every source family: each panel's SQL, with the
dashboard variables resolved by running the dashboards' own variable queries and Grafana's
variable formats expanded, runs as the Grafana role the dbt hook created; it must return rows
(unless the panel shows data the episode cannot have, listed in MAY_BE_EMPTY) with every
column the panel's options, field overrides and transformations name.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml
from psycopg2 import errors, sql

from extract.samples.boids_2d import DatasetSpec, write_dataset
from extract.samples.boids_3d import RunSpec, write_run_folder
from extract.samples.tracking_csv import SessionSpec, write_session_folder
from extract.settings import REPO_ROOT, PostgresSettings
from grafana.panel_queries import (
    Value,
    all_panels,
    interpolate,
    load_dashboards,
    resolve_variables,
    run,
)
from tests.conftest import require_postgres
from tests.warehouse import Warehouse, postgres_warehouse

GRAFANA = REPO_ROOT / "grafana"
# Stable uids: links, bookmarks and the dbt exposures depend on them.
DASHBOARD_UIDS = {
    "overview.json": "tw-overview",
    "spatial.json": "tw-spatial",
    "windows.json": "tw-windows",
    "episodes.json": "tw-episodes",
}
DATASOURCE_TYPE = "grafana-postgresql-datasource"
PANEL_TYPES = {"trend", "stat", "table", "heatmap", "histogram", "xychart", "barchart", "text"}
OTHER_SCHEMAS = ("raw", "raw_staging", "staging", "intermediate", "reference")

# One generated session of each family (small: the module builds its own warehouse).
RUN_3D = RunSpec(
    num_episodes=2,
    num_frames=40,
    num_agents=6,
    num_targets=2,
    seed=11,
    prefix="grafana-3d",
    started="20250301-101500",
    target_creation_time=5,
)
PLAIN_2D = DatasetSpec(name="grafana-2d", num_samples=2, steps=30, species_counts=(4, 3), seed=2)
FOOD_2D = DatasetSpec(
    name="grafana-2d-food",
    num_samples=2,
    steps=30,
    species_counts=(5,),
    seed=3,
    food=(420.0, 260.0),
)
TRACKING = SessionSpec(date="2025_06_03", number=7, num_animals=4, num_frames=50, seed=7)


def write_family_samples(folder: Path) -> Path:
    """Write one small session of each source family (3D with two targets, 2D with and without
    food, tracking with a bboxes, a tracks and a centroids_3d camera) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    write_run_folder(folder, RUN_3D)
    write_dataset(folder, PLAIN_2D)
    write_dataset(folder, FOOD_2D)
    write_session_folder(folder, TRACKING)
    return folder


@dataclass(frozen=True)
class Context:
    """What a user picks: a session, an episode (by name; None: the first) and frame boxes."""

    label: str
    session: str
    episode: str | None = None
    textboxes: tuple[tuple[str, str], ...] = ()


EPISODE_CONTEXTS = [
    Context("3d", RUN_3D.prefix + "-started-" + RUN_3D.started, "episode-1"),
    Context(
        "3d-range",
        RUN_3D.prefix + "-started-" + RUN_3D.started,
        "episode-0",
        (("frame_from", "5"), ("frame_to", " 25 "), ("frame", "12")),
    ),
    Context("2d", PLAIN_2D.name, "sample-1"),
    Context("2d-food", FOOD_2D.name, "sample-0"),
    Context("tracking-bboxes", TRACKING.folder_name, "rgb_cam_1/rgb_cam_1_bboxes.csv"),
    Context("tracking-tracks", TRACKING.folder_name, "thermal_1/thermal_1_tracks.csv"),
    Context("tracking-centroids", TRACKING.folder_name, "stereo_1/stereo_1_centroids_3d.csv"),
]
SESSION_CONTEXTS = [
    Context("3d", RUN_3D.prefix + "-started-" + RUN_3D.started),
    Context("2d", PLAIN_2D.name),
    Context("2d-food", FOOD_2D.name),
    Context("tracking", TRACKING.folder_name),
]
NO_TARGETS = {"2d", "tracking", "tracking-bboxes", "tracking-tracks", "tracking-centroids"}
NO_BOXES = {"3d", "3d-range", "2d", "2d-food", "tracking-tracks", "tracking-centroids"}
# (dashboard uid, panel title) -> contexts where the panel may legitimately have no rows: it
# shows data those episodes do not have (the panels' descriptions say so).
MAY_BE_EMPTY = {
    ("tw-overview", "Distance to target: mean, min, max"): NO_TARGETS,
    ("tw-overview", "Detection confidence"): NO_BOXES,
    ("tw-overview", "Bounding box size"): NO_BOXES,
    ("tw-windows", "Distance to target per window"): NO_TARGETS,
    ("tw-episodes", "Mean distance to target over frames"): NO_TARGETS,
}


# --- fixtures ---------------------------------------------------------------------------------


def admin_connection(database: str = "postgres") -> psycopg2.extensions.connection:
    """An autocommit connection as the configured (administrating) user."""
    connection = psycopg2.connect(**PostgresSettings.from_env().connect_kwargs(database))
    connection.autocommit = True
    return connection


@contextlib.contextmanager
def dropped_role_afterwards(name: str) -> Iterator[None]:
    """Drop the role `name` when the block ends (after the databases holding its grants)."""
    try:
        yield
    finally:
        with contextlib.closing(admin_connection()) as admin, admin.cursor() as cur:
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@dataclass
class GrafanaWarehouse:
    """The built warehouse and the Grafana role dbt created for it."""

    warehouse: Warehouse
    role: str
    password: str

    @property
    def database(self) -> str:
        return self.warehouse.env["PGDATABASE"]

    def connect_as_grafana(self) -> psycopg2.extensions.connection:
        """A connection as the Grafana role (autocommit, as Grafana's queries run)."""
        settings = PostgresSettings.from_env()
        connection = psycopg2.connect(
            host=settings.host,
            port=settings.port,
            user=self.role,
            password=self.password,
            dbname=self.database,
            connect_timeout=10,
        )
        connection.autocommit = True
        return connection


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrafanaWarehouse]:
    """A Postgres warehouse of every family, built with its own Grafana role (a role is
    cluster-wide: a unique name keeps parallel runs apart, and it is dropped afterwards)."""
    require_postgres()
    samples = write_family_samples(tmp_path_factory.mktemp("grafana-samples"))
    role = f"grafana_test_{uuid.uuid4().hex[:10]}"
    password = f"pw-{uuid.uuid4().hex}'quote"
    with (
        dropped_role_afterwards(role),
        postgres_warehouse(tmp_path_factory.mktemp("grafana-postgres")) as warehouse,
    ):
        warehouse.env.update({"GRAFANA_DB_USER": role, "GRAFANA_DB_PASSWORD": password})
        warehouse.build(samples)
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "grafana" / "set_password.py")],
            env={**os.environ, **warehouse.env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        # dbt never sees the password, so its log cannot hold it
        assert password not in (warehouse.workdir / "dbt-logs" / "dbt.log").read_text()
        yield GrafanaWarehouse(warehouse, role, password)


@pytest.fixture(scope="module")
def grafana_connection(built: GrafanaWarehouse) -> Iterator[psycopg2.extensions.connection]:
    """One connection as the Grafana role for the module."""
    with contextlib.closing(built.connect_as_grafana()) as connection:
        yield connection


def provisioned_datasource() -> dict[str, Any]:
    """The one provisioned datasource."""
    files = sorted((GRAFANA / "provisioning" / "datasources").glob("*.yaml"))
    assert len(files) == 1, files
    document = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    assert document["apiVersion"] == 1
    (datasource,) = document["datasources"]
    return datasource


# --- provisioning and dashboard files ---------------------------------------------------------


def test_datasource_provisioning_reads_its_settings_from_the_environment() -> None:
    datasource = provisioned_datasource()
    assert datasource["type"] == DATASOURCE_TYPE
    assert re.fullmatch(r"[a-z0-9-]{1,40}", datasource["uid"])
    env = re.compile(r"\$\{[A-Z_]+\}")
    assert env.fullmatch(datasource["user"])
    assert env.fullmatch(datasource["jsonData"]["database"])
    assert re.fullmatch(r"\$\{[A-Z_]+\}:\$\{[A-Z_]+\}", datasource["url"])
    # no secret in the repository: the password only comes from the environment
    assert env.fullmatch(datasource["secureJsonData"]["password"])
    assert "password" not in datasource and "password" not in datasource["jsonData"]
    assert datasource["editable"] is False


def test_dashboard_provider_points_at_the_dashboard_files() -> None:
    (provider_file,) = sorted((GRAFANA / "provisioning" / "dashboards").glob("*.yaml"))
    document = yaml.safe_load(provider_file.read_text(encoding="utf-8"))
    assert document["apiVersion"] == 1
    (provider,) = document["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    grafana = compose["services"]["grafana"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    # docker-compose mounts grafana/dashboards where the provider reads, and the provisioning
    # folder where a stock Grafana looks for it
    assert (REPO_ROOT / mounts[path]).resolve() == GRAFANA / "dashboards"
    assert (REPO_ROOT / mounts["/etc/grafana/provisioning"]).resolve() == GRAFANA / "provisioning"
    for key in ("GRAFANA_DB_HOST", "GRAFANA_DB_PORT", "GRAFANA_DB_NAME", "GRAFANA_DB_USER"):
        assert key in grafana["environment"]


def test_dashboards_are_generated_from_the_generator() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "generate_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dashboard_parses_with_a_stable_unique_uid() -> None:
    dashboards = load_dashboards()
    assert set(dashboards) == set(DASHBOARD_UIDS)
    for name, dashboard in dashboards.items():
        assert dashboard["uid"] == DASHBOARD_UIDS[name]
        assert dashboard.get("id") is None  # provisioned: Grafana assigns the id
        assert dashboard["timepicker"]["hidden"] is True  # frames, not time
        ids = [panel["id"] for panel in all_panels(dashboard)]
        assert len(ids) == len(set(ids)), name
        for panel in all_panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["type"] in PANEL_TYPES, panel["type"]
            assert panel["pluginVersion"], panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
    titles = [dashboard["title"] for dashboard in dashboards.values()]
    assert len(set(titles)) == len(titles)


def test_every_datasource_reference_is_the_provisioned_one() -> None:
    expected = {"type": DATASOURCE_TYPE, "uid": provisioned_datasource()["uid"]}
    for name, dashboard in load_dashboards().items():
        text = json.dumps(dashboard)
        assert "${DS_" not in text, name  # no export placeholders
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["datasource"] == expected, (name, variable["name"])
        for panel in all_panels(dashboard):
            if panel["type"] in ("row", "text"):
                assert "targets" not in panel or not panel["targets"]
                continue
            assert panel["datasource"] == expected, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"] == expected, (name, panel["title"])
                assert target["format"] == "table" and target["rawQuery"] is True
                assert "marts." in target["rawSql"], (name, panel["title"])


def context_values(
    dashboard: dict[str, Any], context: Context, connection: psycopg2.extensions.connection
) -> dict[str, Value]:
    """Every variable's value for the context (Grafana's resolution: grafana/panel_queries.py)."""
    picks = {"session": context.session, "episode": context.episode}
    return resolve_variables(dashboard, connection, picks, dict(context.textboxes))


# --- what a panel's configuration expects of the query result ---------------------------------


def js_string(value: object) -> str:
    """A value as JavaScript's toString writes it (field names made from values)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def transformed_fields(
    panel: dict[str, Any], columns: list[str], rows: list
) -> tuple[list[str], list[str]]:
    """The field names after the panel's transformations, and any reference to a missing
    field (transformations applied the way Grafana does, as far as names go)."""
    names = list(columns)
    missing: list[str] = []

    def need(*fields: str) -> None:
        missing.extend(f"{panel['title']}: {f}" for f in fields if f not in names)

    for transformation in panel.get("transformations", []):
        options = transformation["options"]
        kind = transformation["id"]
        if kind == "groupingToMatrix":
            row, column, value = options["rowField"], options["columnField"], options["valueField"]
            need(row, column, value)
            if missing:
                return names, missing
            index = columns.index(column)
            series = list(dict.fromkeys(js_string(r[index]) for r in rows))
            names = [f"{row}\\{column}", *series]
        elif kind == "convertFieldType":
            need(*(c["targetField"] for c in options["conversions"]))
        elif kind == "organize":
            need(*options["renameByName"], *options["excludeByName"])
            excluded = {k for k, v in options["excludeByName"].items() if v}
            names = [options["renameByName"].get(n, n) for n in names if n not in excluded]
        elif kind == "partitionByValues":
            need(*options["fields"])
            if not options.get("keepFields", False):
                names = [n for n in names if n not in options["fields"]]
        elif kind == "joinByField":
            need(options["byField"])
        else:
            raise AssertionError(f"transformation {kind} is not simulated by this test")
    return names, missing


def referenced_fields(panel: dict[str, Any]) -> list[str]:
    """Field names the panel's options and overrides refer to."""
    options = panel.get("options", {})
    fields = []
    if panel["type"] in ("trend", "barchart"):
        fields.append(options["xField"])
    if panel["type"] == "xychart":
        for series in options["series"]:
            for dimension in ("x", "y", "color", "size"):
                if dimension in series:
                    matcher = series[dimension]["matcher"]
                    assert matcher["id"] == "byName"
                    fields.append(matcher["options"])
    for override in panel["fieldConfig"]["overrides"]:
        assert override["matcher"]["id"] == "byName"
        fields.append(override["matcher"]["options"])
        for prop in override["properties"]:
            if prop["id"] == "custom.fillBelowTo":
                fields.append(prop["value"])
    return fields


def check_panel_result(
    dashboard: dict[str, Any], panel: dict[str, Any], context: Context, columns: list, rows: list
) -> list[str]:
    """Problems of one panel's result for one context."""
    key = (dashboard["uid"], panel["title"])
    if not rows:
        if context.label in MAY_BE_EMPTY.get(key, set()):
            return []
        return [f"{panel['title']}: no rows for {context.label}"]
    names, problems = transformed_fields(panel, columns, rows)
    problems += [
        f"{panel['title']}: no field {name!r} for {context.label} (fields {names})"
        for name in referenced_fields(panel)
        if name not in names
    ]
    if panel["type"] == "trend":
        # the Trend panel needs a strictly rising numeric x: the frames in row order (one row
        # per frame, or per frame and series when a pivot makes one row of each frame)
        frames = [r[columns.index("frame")] for r in rows]
        if panel.get("transformations"):
            frames = list(dict.fromkeys(frames))
        if any(b <= a for a, b in itertools.pairwise(frames)):
            problems.append(f"{panel['title']}: frames not strictly rising for {context.label}")
    return problems


# --- the panels against the warehouse ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DASHBOARD_UIDS))
def test_every_panel_query_runs_as_grafana_and_fits_its_panel(
    name: str, grafana_connection: psycopg2.extensions.connection
) -> None:
    dashboard = load_dashboards()[name]
    has_episode = any(v["name"] == "episode" for v in dashboard["templating"]["list"])
    contexts = EPISODE_CONTEXTS if has_episode else SESSION_CONTEXTS
    problems: list[str] = []
    checked = 0
    for context in contexts:
        values = context_values(dashboard, context, grafana_connection)
        for panel in all_panels(dashboard):
            for target in panel.get("targets", []):
                statement = interpolate(target["rawSql"], values)
                try:
                    columns, rows = run(grafana_connection, statement)
                except psycopg2.Error as exc:
                    problems.append(f"{panel['title']} ({context.label}): {exc}".strip())
                    continue
                problems += check_panel_result(dashboard, panel, context, columns, rows)
                checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= len(contexts) * 5


def panel_result(
    uid: str, title: str, context: Context, connection: psycopg2.extensions.connection
) -> tuple[list[str], list]:
    """Columns and rows of one panel of one dashboard for one context."""
    dashboard = next(d for d in load_dashboards().values() if d["uid"] == uid)
    panel = next(p for p in all_panels(dashboard) if p["title"] == title)
    values = context_values(dashboard, context, connection)
    return run(connection, interpolate(panel["targets"][0]["rawSql"], values))


def test_2d_and_tracking_panels_show_no_z_and_boxes_where_there_are_boxes(
    grafana_connection: psycopg2.extensions.connection,
) -> None:
    contexts = {context.label: context for context in EPISODE_CONTEXTS}
    state = "Agent state at the chosen frame"
    expect = {
        "3d": ({"z", "v_z", "distance_to_target"}, {"bbox_x1", "confidence"}),
        "2d": (set(), {"z", "v_z", "distance_to_target", "bbox_x1"}),
        "2d-food": ({"distance_to_target"}, {"z", "v_z", "bbox_x1"}),
        "tracking-bboxes": ({"bbox_x1", "confidence", "detection_class"}, {"z", "v_z"}),
        "tracking-tracks": (set(), {"z", "bbox_x1", "distance_to_target"}),
        "tracking-centroids": ({"z", "v_z"}, {"bbox_x1", "distance_to_target"}),
    }
    for label, (present, absent) in expect.items():
        columns, rows = panel_result("tw-spatial", state, contexts[label], grafana_connection)
        assert rows, label
        assert present <= set(columns) and not absent & set(columns), (label, columns)
        _, centroid = panel_result(
            "tw-overview", "Centroid of the agents", contexts[label], grafana_connection
        )
        axes = {r[1] for r in centroid}
        assert axes == ({"x", "y", "z"} if "z" in present else {"x", "y"}), (label, axes)


def test_frame_boxes_choose_the_frames(grafana_connection: psycopg2.extensions.connection) -> None:
    context = next(c for c in EPISODE_CONTEXTS if c.label == "3d-range")
    columns, rows = panel_result("tw-overview", "Agents observed", context, grafana_connection)
    frames = [r[columns.index("frame")] for r in rows]
    assert (frames[0], frames[-1], len(frames)) == (5, 25, 21)
    columns, rows = panel_result(
        "tw-windows", "Before / from the chosen frame", context, grafana_connection
    )
    assert [r[0] for r in rows] == ["before frame 12", "from frame 12"]
    assert [(r[1], r[2]) for r in rows] == [(5, 11), (12, 25)]


# --- the Grafana role -------------------------------------------------------------------------


def scram_or_md5_matches(verifier: str, user: str, password: str) -> bool:
    """Whether a pg_authid password verifier (SCRAM-SHA-256 or md5) is that of `password`."""
    if verifier.startswith("md5"):
        return verifier == "md5" + hashlib.md5((password + user).encode()).hexdigest()
    method, iterations_salt, keys = verifier.split("$")
    assert method == "SCRAM-SHA-256"
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


def test_the_role_is_a_plain_read_only_login_with_the_configured_password(
    built: GrafanaWarehouse,
) -> None:
    with contextlib.closing(admin_connection()) as admin, admin.cursor() as cur:
        cur.execute(
            "select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
            "rolbypassrls, rolconfig from pg_roles where rolname = %s",
            (built.role,),
        )
        login, *powers, config = cur.fetchone()
        assert login and not any(powers)
        assert "default_transaction_read_only=on" in config
        assert "statement_timeout=60s" in config
        assert "jit=off" in config
        cur.execute("select rolsuper from pg_roles where rolname = current_user")
        if cur.fetchone()[0]:  # only a superuser may read the password verifier
            cur.execute("select rolpassword from pg_authid where rolname = %s", (built.role,))
            assert scram_or_md5_matches(cur.fetchone()[0], built.role, built.password)


def test_the_role_reads_marts_and_nothing_else(built: GrafanaWarehouse) -> None:
    with contextlib.closing(admin_connection(built.database)) as admin, admin.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in %s order by 1, 2",
            (("marts", *OTHER_SCHEMAS),),
        )
        tables = cur.fetchall()
    assert {schema for schema, _ in tables} == {"marts", *OTHER_SCHEMAS}
    with contextlib.closing(built.connect_as_grafana()) as grafana, grafana.cursor() as cur:
        for schema, table in tables:
            statement = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            if schema == "marts":
                cur.execute(statement)
                assert cur.fetchone()[0] >= 0
            else:
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(statement)
        writes = [
            "insert into marts.categories (category_id) values ('x')",
            "update marts.sessions set session_name = 'x'",
            "delete from marts.observations",
            "truncate marts.episodes",
            "create table marts.grafana_was_here (x int)",
            "create table public.grafana_was_here (x int)",
            "create schema grafana_was_here",
            "drop table marts.sessions",
        ]
        for statement in writes:
            # refused by privileges, not only by the read-only default the role can switch off
            cur.execute("set default_transaction_read_only = off")
            with pytest.raises(
                (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)
            ) as exc:
                cur.execute(statement)
            assert isinstance(exc.value, errors.InsufficientPrivilege), (statement, exc.value)


def test_tables_dbt_creates_later_are_readable_and_the_operation_is_repeatable(
    built: GrafanaWarehouse,
) -> None:
    with contextlib.closing(admin_connection(built.database)) as admin, admin.cursor() as cur:
        cur.execute("create table marts.grafana_new_table as select 1 as x")
    with contextlib.closing(built.connect_as_grafana()) as grafana, grafana.cursor() as cur:
        cur.execute("select x from marts.grafana_new_table")
        assert cur.fetchall() == [(1,)]
    result = built.warehouse.dbt("run-operation", "grafana_role")
    assert f"Grafana role {built.role}" in result.stdout
    with contextlib.closing(built.connect_as_grafana()) as grafana, grafana.cursor() as cur:
        cur.execute("select count(*) from marts.sessions")
        assert cur.fetchone()[0] == 4
        with pytest.raises(errors.InsufficientPrivilege):
            cur.execute("select count(*) from raw.boids_3d_frames")


def test_concurrent_runs_in_many_databases_share_one_role(built: GrafanaWarehouse) -> None:
    """The hook's statement, run at the same moment in several databases for a role that does
    not exist yet, creates it once and succeeds everywhere."""
    role = f"grafana_race_{uuid.uuid4().hex[:10]}"
    compiled = built.warehouse.dbt(
        "compile", "--quiet", "--inline", "{{ grafana_role_sql() }}", check=False
    )
    assert compiled.returncode == 0, compiled.stdout
    statement = compiled.stdout.strip().replace(f"'{built.role}'", f"'{role}'")
    assert statement.startswith("do $grafana_role$") and role in statement
    databases = [f"grafana_race_{uuid.uuid4().hex[:10]}" for _ in range(4)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(databases))

    def apply(database: str) -> None:
        try:
            with contextlib.closing(admin_connection(database)) as conn, conn.cursor() as cur:
                barrier.wait(timeout=30)
                cur.execute(statement)
        except BaseException as exc:
            failures.append(exc)

    with dropped_role_afterwards(role), contextlib.closing(admin_connection()) as admin:
        with admin.cursor() as cur:
            for database in databases:
                cur.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        try:
            threads = [threading.Thread(target=apply, args=(db,)) for db in databases]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not failures, failures
            with admin.cursor() as cur:
                cur.execute("select count(*) from pg_roles where rolname = %s", (role,))
                assert cur.fetchone()[0] == 1
        finally:
            with admin.cursor() as cur:
                for database in databases:
                    cur.execute(
                        sql.SQL("drop database if exists {} with (force)").format(
                            sql.Identifier(database)
                        )
                    )
