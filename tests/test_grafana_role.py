"""The read-only Grafana role (dbt_project/macros/grafana_role.sql, grafana/set_password.py):
a plain login with the configured password, SELECT on `marts` and nothing else, also for
tables dbt creates later, and safe to create from several databases at once.

The warehouse is a real Postgres build of every source family; its role is the one the dbt
hook created (a unique name per warehouse: roles are cluster-wide)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg2
import pytest
from psycopg2 import errors, sql

from extract.settings import REPO_ROOT, PostgresSettings
from tests.samples import write_family_samples
from tests.warehouse import Warehouse, postgres_warehouse, require_postgres

Connection = psycopg2.extensions.connection
OTHER_SCHEMAS = ("raw", "raw_staging", "staging", "intermediate", "reference")


def admin_connection(database: str = "postgres") -> Connection:
    """An autocommit connection as the configured (administrating) user."""
    connection = psycopg2.connect(**PostgresSettings.from_env().connect_kwargs(database))
    connection.autocommit = True
    return connection


@dataclass
class GrafanaWarehouse:
    """The built warehouse and the Grafana role dbt created for it."""

    warehouse: Warehouse
    role: str
    password: str

    @property
    def database(self) -> str:
        return self.warehouse.env["PGDATABASE"]

    def connect_as_grafana(self) -> Connection:
        """A connection as the Grafana role (autocommit, as Grafana's queries run)."""
        settings = PostgresSettings.from_env()
        settings = dataclasses.replace(settings, user=self.role, password=self.password)
        connection = psycopg2.connect(**settings.connect_kwargs(self.database))
        connection.autocommit = True
        return connection


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrafanaWarehouse]:
    """A Postgres warehouse of every family, its Grafana role's password set by
    grafana/set_password.py (with a quote, which must reach the server unharmed)."""
    require_postgres()
    samples = write_family_samples(tmp_path_factory.mktemp("grafana-samples"))
    password = f"pw-{uuid.uuid4().hex}'quote"
    with postgres_warehouse(tmp_path_factory.mktemp("grafana-postgres")) as warehouse:
        warehouse.env["GRAFANA_DB_PASSWORD"] = password
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
        yield GrafanaWarehouse(warehouse, warehouse.env["GRAFANA_DB_USER"], password)


@contextlib.contextmanager
def dropped_role_afterwards(name: str) -> Iterator[None]:
    """Drop the role `name` when the block ends (after the databases holding its grants)."""
    try:
        yield
    finally:
        with contextlib.closing(admin_connection()) as admin, admin.cursor() as cur:
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


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
        assert cur.fetchone()[0] == 6  # one of each family, two 2D datasets and two rollouts
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
