"""Stable 63-bit identifiers for sessions and episodes.

The extract stage tags every landed row with the BIGINT `session_id` / `episode_id` of the
session and episode it belongs to. Both are a hash of a natural key (source family, session
name, episode name), so they do not depend on load order, on the target database or on what
else the warehouse holds. Observation ids are derived from them in dbt (see
docs/architecture.md).
"""

from __future__ import annotations

import hashlib

_SEPARATOR = "\x1f"
_MASK_63 = (1 << 63) - 1


def stable_id(*parts: str) -> int:
    """A positive BIGINT from the first 8 bytes of the BLAKE2b digest of the parts."""
    digest = hashlib.blake2b(_SEPARATOR.join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _MASK_63
