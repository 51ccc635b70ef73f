"""File fingerprints: what tells a changed source file from one already landed."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

# Columns of a session's row that say where its files are, not what the session is: a moved
# folder or an episode file added to a run leaves the session's fingerprint as it was.
SESSION_LOCATION_COLUMNS = frozenset(
    {"source_path", "config_path", "dataset_source", "num_episode_files"}
)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes. Memoised per (path, size, modification time): the
    extract stage asks for it twice per file (the skip check and the episode row), and a
    file can be hundreds of MB."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_files(paths: Sequence[Path]) -> str:
    """One fingerprint of several files: the file's own SHA-256 for a single file, else the
    SHA-256 of their names and digests."""
    if len(paths) == 1:
        return sha256_file(paths[0])
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def session_sha256(row: pa.Table) -> str:
    """Fingerprint of a session's one-row raw table, its SESSION_LOCATION_COLUMNS left out: it
    changes with what the session's episodes are built with (its config, frame rate, ...)."""
    [values] = row.to_pylist()
    content = {k: v for k, v in values.items() if k not in SESSION_LOCATION_COLUMNS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
