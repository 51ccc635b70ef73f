"""The registry of source families the extract stage knows. Adding a family: write its module
in extract/sources/ with a `FAMILY`, and list it here."""

from __future__ import annotations

from extract.sources import SourceFamily, boids_2d, boids_3d, tracking_csv

FAMILIES: tuple[SourceFamily, ...] = (boids_3d.FAMILY, boids_2d.FAMILY, tracking_csv.FAMILY)

TABLE_HINTS: dict[str, dict[str, str]] = {
    table: hints for family in FAMILIES for table, hints in family.table_hints.items()
}
