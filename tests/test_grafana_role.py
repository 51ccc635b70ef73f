"""The read-only Grafana role (dbt_project/macros/grafana_role.sql, grafana/set_password.py):
a plain login with the configured password (which reaches the server only as a SCRAM
verifier), SELECT on `marts` and nothing else, nothing left behind by a read-write
transaction, also for tables dbt creates later, and safe to create from several databases at
once.

The warehouse is a real Postgres build of every source family; its role is the one the dbt
hook created (a unique name per warehouse: roles are cluster-wide)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import os
import re
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
from grafana.set_password import password_statement
from tests.samples import write_family_samples
from tests.warehouse import Warehouse, postgres_warehouse, require_postgres

Connection = psycopg2.extensions.connection
OTHER_SCHEMAS = ("raw", "staging", "intermediate", "reference")


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
    grafana/set_password.py (with a quote and a non-ASCII letter, which must reach the server
    unharmed)."""
    require_postgres()
    samples = write_family_samples(tmp_path_factory.mktemp("grafana-samples"))
    password = f"pw-{uuid.uuid4().hex}'quote-é"
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


def is_scram_verifier_of(verifier: str, password: str) -> bool:
    """Whether `verifier` is a SCRAM-SHA-256 verifier (RFC 5802, as pg_authid stores it) of
    `password`, computed here independently of libpq (for a password SASLprep leaves as is)."""
    method, iterations_salt, keys = verifier.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return (
        method == "SCRAM-SHA-256"
        and base64.b64decode(stored_key) == hashlib.sha256(client_key).digest()
        and base64.b64decode(server_key) == hmac.new(salted, b"Server Key", "sha256").digest()
    )


def stored_verifier(role: str) -> str | None:
    """The role's password verifier in pg_authid; None unless the configured user is a
    superuser (only a superuser may read it)."""
    with contextlib.closing(admin_connection()) as admin, admin.cursor() as cur:
        cur.execute("select rolsuper from pg_roles where rolname = current_user")
        if not cur.fetchone()[0]:
            return None
        cur.execute("select rolpassword from pg_authid where rolname = %s", (role,))
        return cur.fetchone()[0]


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
        assert "work_mem=64MB" in config
    verifier = stored_verifier(built.role)
    assert verifier is None or is_scram_verifier_of(verifier, built.password)
    with contextlib.closing(built.connect_as_grafana()) as grafana, grafana.cursor() as cur:
        cur.execute("select current_user, current_setting('statement_timeout')")
        assert cur.fetchone() == (built.role, "1min")


def test_the_password_reaches_the_server_only_as_a_scram_verifier(
    built: GrafanaWarehouse,
) -> None:
    """The statement set_password.py sends, as the server received it (what a server logging
    statements would record), holds the SCRAM-SHA-256 verifier computed on this side and not
    the password; the role then logs in with the password."""
    with (
        contextlib.closing(admin_connection()) as setter,
        contextlib.closing(admin_connection()) as observer,
    ):
        with setter.cursor() as cur:
            cur.execute(password_statement(setter, built.role, built.password))
            sent = cur.query.decode()
        with observer.cursor() as cur:
            cur.execute(
                "select query from pg_stat_activity where pid = %s", (setter.get_backend_pid(),)
            )
            received = cur.fetchone()[0]
    assert received == sent
    assert built.password not in received
    assert built.password.replace("'", "''") not in received
    verifier = re.fullmatch(r"alter role \S+ password '(SCRAM-SHA-256\$[^']+)'", received)
    assert verifier and is_scram_verifier_of(verifier[1], built.password), received
    assert stored_verifier(built.role) in (None, verifier[1])
    with contextlib.closing(built.connect_as_grafana()) as grafana, grafana.cursor() as cur:
        cur.execute("select current_user")
        assert cur.fetchone()[0] == built.role


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


# What a read-write transaction of a role without any write privilege could still leave
# behind, unless the hook takes it from PUBLIC in the warehouse database.
LEFT_BEHIND = {
    "a temporary table": "create temporary table grafana_was_here (x int)",
    "a temporary function": (
        "create function pg_temp.grafana_was_here() returns int language sql as 'select 1'"
    ),
    "a large object": "select lo_create(0)",
    "a large object (old interface)": "select lo_creat(-1)",
    "a large object from bytes": "select lo_from_bytea(0, 'grafana was here')",
    "a large object from a server file": "select lo_import('/etc/hostname')",
}


def test_a_read_write_transaction_of_the_role_leaves_nothing_behind(
    built: GrafanaWarehouse,
) -> None:
    allowed = []
    with contextlib.closing(built.connect_as_grafana()) as grafana, grafana.cursor() as cur:
        for what, statement in LEFT_BEHIND.items():
            cur.execute("begin read write")
            try:
                cur.execute(statement)
                allowed.append(what)
            except errors.InsufficientPrivilege:
                pass
            cur.execute("rollback")
    assert not allowed
    # libpq's client-side large objects (psql's \lo_import) create them with lo_creat too
    with contextlib.closing(built.connect_as_grafana()) as grafana:
        grafana.autocommit = False
        grafana.set_session(readonly=False)
        with pytest.raises(psycopg2.OperationalError, match="permission denied for function"):
            grafana.lobject(0, "wb")
    with contextlib.closing(admin_connection(built.database)) as admin, admin.cursor() as cur:
        cur.execute(
            "select count(*) from pg_largeobject_metadata m join pg_roles r "
            "on r.oid = m.lomowner where r.rolname = %s",
            (built.role,),
        )
        assert cur.fetchone()[0] == 0


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


def hook_statement(built: GrafanaWarehouse, role: str) -> str:
    """The hook's statement as dbt compiles it, for the Grafana role `role`."""
    compiled = built.warehouse.dbt(
        "compile", "--quiet", "--inline", "{{ grafana_role_sql() }}", check=False
    )
    assert compiled.returncode == 0, compiled.stdout
    statement = compiled.stdout.strip().replace(f"'{built.role}'", f"'{role}'")
    assert statement.startswith("do $grafana_role$") and role in statement
    return statement


def test_a_dbt_user_that_is_not_a_superuser_is_told_what_to_revoke(
    built: GrafanaWarehouse,
) -> None:
    """Run by the owner of the database without superuser rights, the hook takes TEMPORARY
    from PUBLIC but cannot take the large-object functions: it fails naming them (and only
    them), and succeeds once an administrator has revoked them."""
    suffix = uuid.uuid4().hex[:10]
    owner, role, database = f"dbt_owner_{suffix}", f"grafana_{suffix}", f"grafana_owned_{suffix}"
    statement = hook_statement(built, role)
    with (
        dropped_role_afterwards(owner),
        dropped_role_afterwards(role),
        contextlib.closing(admin_connection()) as admin,
    ):
        with admin.cursor() as cur:
            cur.execute(sql.SQL("create role {} login createrole").format(sql.Identifier(owner)))
            cur.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
        try:
            settings = dataclasses.replace(PostgresSettings.from_env(), user=owner, password="")
            with contextlib.closing(psycopg2.connect(**settings.connect_kwargs(database))) as dbt:
                dbt.autocommit = True
                with dbt.cursor() as cur, pytest.raises(errors.RaiseException) as refused:
                    cur.execute(statement)
                functions = ("lo_creat(integer)", "lo_create(oid)", "lo_from_bytea(oid,bytea)")
                assert refused.value.diag.message_primary == (
                    f"the Grafana role {role} could write in database {database}: it has "
                    + ", ".join(f"EXECUTE on function {function}" for function in functions)
                )
                assert "grafana/README.md" in refused.value.diag.message_hint
                with contextlib.closing(admin_connection(database)) as superuser:
                    superuser.cursor().execute(
                        "revoke execute on function lo_creat(integer), lo_create(oid), "
                        "lo_from_bytea(oid, bytea) from public"
                    )
                with dbt.cursor() as cur:
                    cur.execute(statement)
                    cur.execute(
                        "select has_database_privilege(%s, current_database(), 'TEMPORARY'), "
                        "has_database_privilege(current_user, current_database(), 'TEMPORARY')",
                        (role,),
                    )
                    assert cur.fetchone() == (False, True)
        finally:
            with admin.cursor() as cur:
                cur.execute(
                    sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(database)
                    )
                )


def test_concurrent_runs_in_many_databases_share_one_role(built: GrafanaWarehouse) -> None:
    """The hook's statement, run at the same moment in several databases for a role that does
    not exist yet, creates it once and succeeds everywhere."""
    role = f"grafana_race_{uuid.uuid4().hex[:10]}"
    statement = hook_statement(built, role)
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
