"""`python -m grafana.generator` writes grafana/dashboards/*.json; with `--check` it only
reports (exit status 1) the files that differ from what it would write."""

from __future__ import annotations

import sys
from pathlib import Path

from grafana.generator.dashboard import generate

DASHBOARD_DIR = Path(__file__).resolve().parents[1] / "dashboards"


def main(argv: list[str]) -> int:
    """Write the dashboards, or with --check only say whether they are up to date."""
    check = "--check" in argv
    stale = []
    for name, content in generate().items():
        path = DASHBOARD_DIR / name
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        stale.append(name)
        if not check:
            DASHBOARD_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run python -m grafana.generator")
        return 1
    print("written: " + ", ".join(stale) if stale else "up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
