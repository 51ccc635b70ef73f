"""A Spark standalone cluster for a test: one master and one worker from the pyspark package
(`spark-class`), on free ports of 127.0.0.1 so that parallel runs cannot collide, started and
stopped by pid."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

SPARK_CLASS = str(Path(sys.executable).with_name("spark-class"))
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
READY_SECONDS = 90


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """`spark-class ARGS` in a process group of its own (spark-class execs java, so the pid is
    the JVM's), its output to `log`."""
    # spark-class finds the installation through the `python3` on PATH unless told: this one's
    pyspark = importlib.util.find_spec("pyspark")
    assert pyspark is not None and pyspark.origin is not None, "pyspark is not installed"
    spark_home = str(Path(pyspark.origin).parent)
    with log.open("wb") as out:
        return subprocess.Popen(
            [SPARK_CLASS, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SPARK_HOME": spark_home, "SPARK_LOCAL_IP": "127.0.0.1"},
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started by start(), and its group: SIGTERM, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def alive_workers(ui_port: int) -> int:
    """The number of workers registered with the master (its web UI's JSON), 0 if unreachable."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as reply:
            return int(json.load(reply).get("aliveworkers", 0))
    except OSError:
        return 0


@contextlib.contextmanager
def spark_cluster(workdir: Path, cores: int = 2, memory: str = "2g") -> Iterator[str]:
    """A master and one worker (`cores`, `memory`) running until the block ends; yields the
    master's URL (spark://127.0.0.1:<port>). Fails, with the logs' ends, when the worker has
    not registered within READY_SECONDS."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, ui_port = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    processes = []
    try:
        processes.append(
            start(
                [MASTER, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)],
                workdir / "master.log",
            )
        )
        processes.append(
            start(
                [
                    WORKER,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(free_port()),
                    "--webui-port",
                    str(free_port()),
                    "--cores",
                    str(cores),
                    "--memory",
                    memory,
                    "--work-dir",
                    str(workdir / "work"),
                    url,
                ],
                workdir / "worker.log",
            )
        )
        deadline = time.monotonic() + READY_SECONDS
        while alive_workers(ui_port) < 1:
            exited = [p.args[1] for p in processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {name}:\n{(workdir / name).read_text(errors='replace')[-3000:]}"
                    for name in ("master.log", "worker.log")
                )
                raise RuntimeError(
                    f"the Spark cluster did not start ({exited or 'timeout'}):\n{logs}"
                )
            time.sleep(0.5)
        yield url
    finally:
        for process in reversed(processes):
            stop(process)
