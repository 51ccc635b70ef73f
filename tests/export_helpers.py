"""Helpers of the export tests: the export CLI and API run against a test warehouse."""

from __future__ import annotations

from pathlib import Path

import torch

from export.cli import main as export_main
from tests.warehouse import Warehouse, environment


def export(warehouse: Warehouse, *args: str | Path) -> int:
    """Run `python export/run.py --target <target> ARGS` in-process; the exit status."""
    with environment(warehouse.env):
        return export_main(["--target", warehouse.target, *map(str, args)])


def load_tensor_files(folder: Path) -> dict[int, dict]:
    """The episode files of a `--format tensors` folder, by episode id (loaded with
    weights_only=True: they hold tensors, lists, strings and ints only)."""
    return {
        content["episode_id"]: content
        for content in (torch.load(f, weights_only=True) for f in sorted(folder.glob("*.pt")))
    }
