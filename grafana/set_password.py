"""Set the Grafana role's password: `python grafana/set_password.py`.

Reads GRAFANA_DB_USER (default grafana_reader) and GRAFANA_DB_PASSWORD, and connects with the
PG* variables (the same as the warehouse). The password is hashed here, as psql's \\password
does: libpq (PQencryptPasswordConn) computes its SCRAM-SHA-256 verifier, and the server
receives only `ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`, so a server that logs statements
never records the password. It is never written to a file or a log; dbt creates and grants
the role but never handles its password (dbt writes every statement it runs to logs/dbt.log).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import encrypt_password

from extract.settings import PostgresSettings

ATTEMPTS = 5


def password_statement(connection: Connection, role: str, password: str) -> sql.Composed:
    """`ALTER ROLE role PASSWORD '<verifier>'`: the password's SCRAM-SHA-256 verifier (random
    salt), computed on this side by libpq; the connection only identifies the server."""
    verifier = encrypt_password(password, role, connection, "scram-sha-256")
    return sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(verifier))


def set_password(role: str, password: str, settings: PostgresSettings) -> None:
    """Set the role's password, retried when another session updates the role at once."""
    for attempt in range(1, ATTEMPTS + 1):
        connection = psycopg2.connect(**settings.connect_kwargs())
        try:
            with contextlib.closing(connection), connection, connection.cursor() as cur:
                cur.execute(password_statement(connection, role, password))
            return
        except psycopg2.errors.InternalError:  # "tuple concurrently updated"
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)


def main() -> int:
    role = os.environ.get("GRAFANA_DB_USER", "grafana_reader")
    password = os.environ.get("GRAFANA_DB_PASSWORD", "")
    if not password:
        print("error: set GRAFANA_DB_PASSWORD to the password Grafana will use", file=sys.stderr)
        return 2
    settings = PostgresSettings.from_env()
    try:
        set_password(role, password, settings)
    except psycopg2.Error as exc:
        print(
            f"error: cannot set the password of role {role} at {settings.describe()}: "
            f"{str(exc).strip()} (run `dbt build --target postgres` first: it creates the role)",
            file=sys.stderr,
        )
        return 1
    print(f"password of role {role} set at {settings.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
