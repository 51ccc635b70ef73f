"""Errors of the export: each message says what was asked, what is wrong and what to do."""

from __future__ import annotations


class ExportError(Exception):
    """A selection or an export that cannot be done as asked (an unknown name, an empty
    selection, a feature that is not a column, an output that exists)."""


class WarehouseUnavailable(ExportError):
    """The warehouse cannot be reached, or holds no marts yet."""
