"""`python -m extract.spark_check`: before `dbt build --target spark` (`make build` runs it),
check what dbt reports late and unclearly on this target: a master of `SPARK_MASTER`
(`spark://host:port[,host:port]`) that accepts no connection makes dbt retry for about two
minutes and then fail (status 2) with "Cannot call methods on a stopped SparkContext"; a
folder of the tables or the metastore that cannot be written fails inside Spark. Exit status
3 with what to check when one of them fails, else 0. A yarn or k8s master, and folders given
as URLs (hdfs://, s3a://), are left to Spark."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

# The defaults of profiles.yml (its `spark` output), relative to the directory dbt runs in.
DEFAULT_MASTER = "local[*]"
DEFAULT_WAREHOUSE = "warehouse/spark/tables"
DEFAULT_METASTORE = "warehouse/spark/metastore"
CONNECT_SECONDS = 5.0


def master_addresses(master: str) -> list[tuple[str, int]]:
    """The (host, port) pairs of a standalone master URL (several for a master with standby
    masters); none for any other master (local, yarn, k8s)."""
    if not master.startswith("spark://"):
        return []
    addresses = []
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        addresses.append((host, int(port)))
    return addresses


def master_problem(master: str) -> str | None:
    """Why the standalone master of `master` cannot be reached (no address of it accepts a
    connection), or None."""
    try:
        addresses = master_addresses(master)
    except ValueError:
        return f"SPARK_MASTER={master} is not a master URL: expected spark://host:port"
    failures = []
    for host, port in addresses:
        try:
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
            return None
        except OSError as exc:
            failures.append(f"{host}:{port}: {exc.strerror or exc}")
    if not failures:
        return None
    return (
        f"cannot reach the Spark master {master} ({'; '.join(failures)}): check that the master "
        "runs and listens on that host and port (its log says `Starting Spark master at`), and "
        "SPARK_MASTER; unset SPARK_MASTER to build on a local Spark"
    )


def folder_problem(variable: str, folder: str) -> str | None:
    """Why a file cannot be written in `folder` (created when missing), or None; a URL other
    than file:// is not checked."""
    if "://" in folder and not folder.startswith("file://"):
        return None
    path = Path(folder.removeprefix("file://"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        return (
            f"cannot write in {path} ({variable}): {exc.strerror or exc}; check {variable}, and "
            "that this user may create files there"
        )
    return None


def problems() -> list[str]:
    """What stops a Spark build with the environment's settings."""
    metastore = os.environ.get("TRACKING_SPARK_METASTORE", DEFAULT_METASTORE)
    found = [
        master_problem(os.environ.get("SPARK_MASTER", DEFAULT_MASTER)),
        folder_problem(
            "TRACKING_SPARK_WAREHOUSE",
            os.environ.get("TRACKING_SPARK_WAREHOUSE", DEFAULT_WAREHOUSE),
        ),
        # Derby creates the metastore's own folder: the one it goes in must be writable
        folder_problem("TRACKING_SPARK_METASTORE", str(Path(metastore).parent)),
    ]
    return [problem for problem in found if problem]


def main() -> int:
    """Print each problem; the exit status."""
    found = problems()
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    return 3 if found else 0


if __name__ == "__main__":
    sys.exit(main())
