"""Connection settings shared by the extract stage and dbt (profiles.yml reads the same
environment variables with the same defaults)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUCKDB_PATH = Path("warehouse") / "tracking.duckdb"
DEFAULT_LAKE = Path("warehouse") / "lake"
RAW_SCHEMA = "raw"
TARGETS = ("duckdb", "postgres", "spark")
MEMORY_LIMIT_VAR = "TRACKING_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"
# The extract's own DuckDB buffer pool: small, so that its memory does not grow with the data
# already loaded (it spills beyond it); lowered to the warehouse's limit when that is lower.
EXTRACT_MEMORY_LIMIT = "256MB"
# DuckDB's size units: decimal (KB, MB, ...; also K, M, ...) and binary (KiB, MiB, ...).
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_UNITS |= {f"{u}b": f for u, f in _UNITS.items() if u not in ("", "b")}
_UNITS |= {f"{u}ib": 1024 ** (i + 1) for i, u in enumerate("kmgt")}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def duckdb_path() -> Path:
    """The DuckDB warehouse file: `TRACKING_DUCKDB_PATH`, else warehouse/tracking.duckdb in the
    repository (relative paths are taken from the current directory, as dbt does)."""
    configured = os.environ.get("TRACKING_DUCKDB_PATH")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT / DEFAULT_DUCKDB_PATH).resolve()


def size_bytes(text: str) -> int:
    """The bytes of a DuckDB memory size ("4GB", "512 MiB"); ValueError naming
    TRACKING_DUCKDB_MEMORY_LIMIT when it is not one."""
    match = _SIZE.fullmatch(text)
    if match is None or match.group(2).lower() not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(
            f"{MEMORY_LIMIT_VAR}={text!r} is not a memory size: write a positive number and a "
            "unit, e.g. 4GB, 2GiB or 512MB"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit for the warehouse (dbt builds, exports): the environment variable
    TRACKING_DUCKDB_MEMORY_LIMIT, else 4GB; beyond it DuckDB spills to its temp directory."""
    limit = os.environ.get(MEMORY_LIMIT_VAR, "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT
    size_bytes(limit)
    return limit


def duckdb_config(limit: str | None = None) -> dict[str, str]:
    """The settings of every DuckDB connection to the warehouse, as profiles.yml gives dbt's:
    the memory limit (`limit`, else duckdb_memory_limit()) and the temp directory it spills
    to, beside the warehouse file."""
    return {
        "memory_limit": limit or duckdb_memory_limit(),
        "temp_directory": f"{duckdb_path()}.tmp",
    }


def extract_duckdb_config() -> dict[str, str]:
    """duckdb_config() with the extract's smaller limit (EXTRACT_MEMORY_LIMIT, or the
    warehouse's limit when that is lower)."""
    limit = duckdb_memory_limit()
    lower = size_bytes(limit) < size_bytes(EXTRACT_MEMORY_LIMIT)
    return duckdb_config(limit if lower else EXTRACT_MEMORY_LIMIT)


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
