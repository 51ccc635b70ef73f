"""Temporary changes to process-wide mappings (os.environ, sys.modules)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TypeVar

V = TypeVar("V")


@contextlib.contextmanager
def temporarily_set(target: MutableMapping[str, V], values: Mapping[str, V]) -> Iterator[None]:
    """Set keys of a mapping for the duration of a block, then restore (or remove) them."""
    saved = {key: target.get(key) for key in values}
    target.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
