"""Find the inputs under the paths given on the command line and say which family each is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extract.errors import InputFileError
from extract.sources import boids3d


@dataclass
class Inputs:
    """Everything found, per source family, in a stable order."""

    boids3d_runs: list[boids3d.RunFolder] = field(default_factory=list)

    @property
    def num_sessions(self) -> int:
        return len(self.boids3d_runs)

    @property
    def num_files(self) -> int:
        return sum(len(run.episodes) for run in self.boids3d_runs)


def _walk(path: Path, inputs: Inputs) -> bool:
    """Add what lies at or under path; True when anything was found."""
    if boids3d.is_run_folder(path):
        inputs.boids3d_runs.append(boids3d.scan_run_folder(path))
        return True
    if not path.is_dir():
        return False
    found = False
    for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = _walk(child, inputs) or found
    return found


def discover(paths: Iterable[Path]) -> Inputs:
    """Inputs at or below each path (a run folder, or a folder holding run folders)."""
    inputs = Inputs()
    for raw_path in paths:
        path = Path(raw_path).expanduser()
        if not path.exists():
            raise InputFileError(path, "no such file or folder")
        if not _walk(path.resolve(), inputs):
            raise InputFileError(
                path,
                "no recognised input found",
                "expected a 3D boids run folder (config.yaml + episode-N-completed-*.parquet) "
                "or a folder containing such run folders",
            )
    seen: dict[str, Path] = {}
    for run in inputs.boids3d_runs:
        if run.path.name in seen and seen[run.path.name] != run.path:
            raise InputFileError(
                run.path,
                f"a run folder with the same name was also given at {seen[run.path.name]}",
                "session ids come from folder names; load one of them",
            )
        seen[run.path.name] = run.path
    inputs.boids3d_runs = list({run.path: run for run in inputs.boids3d_runs}.values())
    return inputs
