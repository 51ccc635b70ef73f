"""File fingerprints: what tells a changed source file from one already landed."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path


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
