"""Connection settings shared by the extract stage and dbt (profiles.yml reads the same
environment variables with the same defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUCKDB_PATH = Path("warehouse") / "tracking.duckdb"
DEFAULT_LAKE = Path("warehouse") / "lake"
RAW_SCHEMA = "raw"
TARGETS = ("duckdb", "postgres", "spark")


def duckdb_path() -> Path:
    """The DuckDB warehouse file: `TRACKING_DUCKDB_PATH`, else warehouse/tracking.duckdb in the
    repository (relative paths are taken from the current directory, as dbt does)."""
    configured = os.environ.get("TRACKING_DUCKDB_PATH")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT / DEFAULT_DUCKDB_PATH).resolve()


def lake_url() -> str:
    """The lake the Spark target's raw parquet goes to: `TRACKING_LAKE` (a folder, or any
    fsspec URL such as s3://bucket/prefix), else warehouse/lake in the repository (relative
    folders are taken from the current directory, as dbt and Spark do)."""
    configured = os.environ.get("TRACKING_LAKE")
    if not configured:
        return str((REPO_ROOT / DEFAULT_LAKE).resolve())
    if "://" in configured:
        return configured
    return str(Path(configured).expanduser().resolve())


@dataclass(frozen=True)
class PostgresSettings:
    """libpq-style settings; defaults fit a local trust-auth server."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "tracking"

    @classmethod
    def from_env(cls) -> PostgresSettings:
        """Read PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE."""
        defaults = cls()
        return cls(
            host=os.environ.get("PGHOST", defaults.host),
            port=int(os.environ.get("PGPORT", defaults.port)),
            user=os.environ.get("PGUSER", defaults.user),
            password=os.environ.get("PGPASSWORD", defaults.password),
            database=os.environ.get("PGDATABASE", defaults.database),
        )

    def connect_kwargs(self, database: str | None = None) -> dict[str, object]:
        """Keyword arguments for psycopg2.connect."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": database or self.database,
            "connect_timeout": 10,
        }

    def describe(self) -> str:
        """Where the data goes, without the password."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"
