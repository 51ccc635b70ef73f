"""Command-line entry point: `python extract/run.py --help`."""

import sys
from pathlib import Path

# Run as a script, Python puts extract/ itself first on sys.path, where module names such as
# `settings` could shadow installed packages: put the repository root there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from extract.cli import main  # noqa: E402


def run(argv: list[str]) -> int:
    """`watch` (extract/watch.py, which builds on the extract and loads dbt: imported only for
    it), or anything else extract/cli.py takes."""
    if argv[:1] == ["watch"]:
        from extract.watch import main as watch

        return watch(argv[1:])
    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
