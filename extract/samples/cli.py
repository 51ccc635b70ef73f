"""The command line of a sample generator: each option stores its value under the name of the
spec field it sets, and an option not given is left out, so the spec's default applies."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def parser(prog: str, description: str, output_help: str) -> argparse.ArgumentParser:
    """A parser taking the output folder; the generator adds one option per spec field."""
    result = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    result.add_argument("output_dir", type=Path, help=output_help)
    return result


def generate(
    options: argparse.ArgumentParser,
    argv: list[str] | None,
    spec_type: Callable[..., Any],
    write: Callable[[Path, Any], Path],
) -> int:
    """Parse the command line into a spec, write its files and print where; the exit status."""
    fields = vars(options.parse_args(argv))
    output_dir = fields.pop("output_dir")
    print(write(output_dir, spec_type(**fields)))
    return 0
