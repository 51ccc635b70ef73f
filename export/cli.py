"""`python export/run.py`: select episodes in the warehouse's marts, write PyTorch files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from export.episode_arrays import agent_types, feature_columns
from export.errors import ExportError, WarehouseUnavailable
from export.pt_format import check_pt_selection, write_pt
from export.selection import Selection, parse_config_filter, select_in
from export.tensor_files import write_tensor_files
from export.warehouse import Marts
from extract.settings import TARGETS

DESCRIPTION = """\
Select episodes in the warehouse's marts and write them as PyTorch files (the way out beside
`python extract/run.py`, the way in). Rows are read from the marts as arrow batches, one
episode at a time; both targets give identical files.

Selection: every filter given must match (AND); a filter given several times matches any of
its values (OR). An unknown category, session, episode id, agent type or config key, or a
selection that matches nothing, is an error (exit status 1) and writes nothing.

Formats:
  pt       2D boids sessions (category boids_2d) as the lab's dataset files: OUT.pt (one
           session), or OUT/<session name>.pt per session, each with its _config.pt, in the
           layout extract/run.py and the lab's training code read (see README, "Exporting").
  tensors  any episodes as tensor files: OUT/<episode_id>.pt per episode (frames, features
           [T, agents, F] with NaN where absent, mask, agent ids and types) and OUT/index.json;
           the layout is in export/tensor_files.py.

For training, use the Python API instead of files: export.select_episodes and
export.TrajectoryWindows (README, "Exporting").
"""

EPILOG = """\
connection settings (environment): as extract/run.py
  TRACKING_DUCKDB_PATH   DuckDB warehouse file (default: warehouse/tracking.duckdb in the repo)
  PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE   Postgres server

exit status:
  0  the files were written
  1  the selection or the output is refused (the message says why): nothing was written;
     or a file could not be written (disk full, no permission): no file is left half-written
  2  bad command line
  3  the warehouse could not be read: nothing was written

examples:
  python export/run.py --list --category boids_2d --config A.visual_range=50
  python export/run.py --target postgres --session boids_2d-food --format pt out/food.pt
  python export/run.py --category boids_3d --episode 123 --episode 456 --format tensors out/3d/
  python export/run.py --category tracking_csv --agent-type bird --feature x --feature y \\
      --format tensors out/birds/
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python export/run.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "out",
        nargs="?",
        type=Path,
        metavar="OUT",
        help="where to write: a .pt file or a folder (--format pt), a folder (--format tensors)",
    )
    parser.add_argument(
        "--target", choices=TARGETS, default="duckdb", help="warehouse to read (default: duckdb)"
    )
    parser.add_argument("--category", help="category id: boids_3d, boids_2d, tracking_csv, ...")
    parser.add_argument(
        "--session", action="append", default=[], metavar="NAME", help="session name (repeatable)"
    )
    parser.add_argument(
        "--episode",
        action="append",
        default=[],
        type=int,
        metavar="ID",
        help="episode id, marts.episodes.episode_id (repeatable)",
    )
    parser.add_argument(
        "--agent-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="keep episodes with entities of this agent type, and only those entities "
        "(repeatable; default: every entity, environment entities included)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep sessions whose config holds VALUE at the dotted path KEY, e.g. "
        "A.visual_range=50 or simulator.num_agents=30 (VALUE read as JSON, else as text; "
        "repeatable)",
    )
    parser.add_argument(
        "--format", choices=("pt", "tensors"), help="what to write (see above); required with OUT"
    )
    parser.add_argument(
        "--feature",
        action="append",
        default=[],
        metavar="COLUMN",
        help="--format tensors: a column of observation_properties_wide (x, y, z, v_x, speed, "
        "distance_to_target, ...; repeatable; default: positions and velocities)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace OUT (and the _config.pt) if it exists"
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print the selected episodes (id, session, number, name, frames) and write nothing",
    )
    return parser


def _print_selection(selection: Selection) -> None:
    print("episode_id\tcategory\tsession\tnumber\tname\tframes")
    for e in selection:
        print(
            f"{e.episode_id}\t{e.category_id}\t{e.session_name}\t{e.episode_number}\t"
            f"{e.episode_name}\t{e.num_frames}"
        )
    print(f"{len(selection)} episode(s) of {len(selection.session_names)} session(s)")


def _check_out(options: argparse.Namespace, selection: Selection) -> None:
    """The output may be written: the format fits it, and nothing is overwritten unasked."""
    out: Path = options.out
    if options.format == "pt":
        check_pt_selection(selection)
        if out.suffix != ".pt" and out.exists() and not out.is_dir():
            raise ExportError(f"{out} is a file: give a .pt file name or a folder")
        files = [out] if out.suffix == ".pt" else [out / f"{s}.pt" for s in selection.session_names]
        files += [f.with_name(f.stem + "_config.pt") for f in files]
        existing = [str(f) for f in files if f.exists()]
        if existing and not options.force:
            raise ExportError(f"{', '.join(existing)} exists: give --force to replace it")
        return
    if out.suffix == ".pt":
        raise ExportError(f"{out}: --format tensors writes a folder, not a .pt file")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not options.force:
        raise ExportError(f"{out} exists and is not an empty folder: give --force to replace it")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file: --format tensors writes a folder")


def run(options: argparse.Namespace) -> None:
    """Select, then list or write."""
    started = time.perf_counter()
    config = dict(parse_config_filter(text) for text in options.config)
    with Marts(options.target) as marts:
        selection = select_in(
            marts, options.category, options.session, options.episode, options.agent_type, config
        )
        if options.list:
            _print_selection(selection)
            return
        _check_out(options, selection)
        vocabulary = agent_types(marts)
        if options.format == "pt":
            written = write_pt(marts, selection, vocabulary, options.out)
        else:
            features = feature_columns(marts, options.feature) if options.feature else None
            written = write_tensor_files(
                marts, selection, vocabulary, options.out, features, options.force
            )
    for path in written:
        print(f"wrote {path}")
    print(
        f"exported {len(selection)} episode(s) of {len(selection.session_names)} session(s) "
        f"from {options.target} in {time.perf_counter() - started:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the exit status."""
    parser = _parser()
    options = parser.parse_args(argv)
    if not options.list and (options.out is None or options.format is None):
        parser.error("give OUT and --format (or --list to only print the selection)")
    if options.feature and options.format == "pt":
        parser.error("--feature applies to --format tensors (a .pt dataset holds positions)")
    try:
        run(options)
    except WarehouseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {options.out}: {exc}", file=sys.stderr)
        return 1
    return 0
