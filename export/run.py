"""Command-line entry point: `python export/run.py --help`."""

import sys
from pathlib import Path

# Run as a script, Python puts export/ itself first on sys.path: put the repository root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from export.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
