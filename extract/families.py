"""The source families the extract stage knows, in the order a path is tried against them.
Adding a family: write its module in extract/sources/ with a `FAMILY`, and list it here
(docs/architecture.md, "Adding a source family")."""

from __future__ import annotations

from extract.sources import SourceFamily, boids_2d, boids_2d_rollout, boids_3d, tracking_csv

FAMILIES: tuple[SourceFamily, ...] = (
    boids_3d.FAMILY,
    boids_2d.FAMILY,
    tracking_csv.FAMILY,
    boids_2d_rollout.FAMILY,
)
