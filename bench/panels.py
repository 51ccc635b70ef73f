"""Benchmark the Grafana panels (docs/benchmarks.md, "Dashboards"): every panel query of
every dashboard, for one episode and for the explore dashboard's session scope (a 10-episode
session pooled), on a Postgres warehouse of bench/run.py's W2 size (--sessions run folders of
10 3D episodes, 3,001 frames x 30 agents), with the Grafana role's login settings.

The warehouse is built once into a fresh database (extract + dbt build, timed alongside for
scale) and dropped afterwards, or --database names one already built from the same folders;
then each panel's query runs 3 times (median). The markdown report goes to --out and stdout.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.run import (  # noqa: E402
    bench_parser,
    generate,
    load,
    time_panels,
    warehouse,
    write_report,
)

GOALS = {"episode": 0.5, "session": 2.0}  # seconds, issue #21


def panel_report(env: dict[str, str], session: Path) -> list[str]:
    """Markdown sections: every panel for one episode of `session`, then the explore
    dashboard's panels for the whole session (the other dashboards have no scope)."""
    lines = []
    for scope, goal in GOALS.items():
        timings = time_panels(env, session, scope)
        if scope == "session":
            timings = [t for t in timings if t[0].startswith("Trajectories: explore")]
        slowest = max(timings, key=lambda t: t[1])
        lines += [
            "",
            f"## scope {scope}: {len(timings)} panels, median "
            f"{1000 * statistics.median(t for _, t in timings):.0f} ms, slowest "
            f"{1000 * slowest[1]:.0f} ms ({slowest[0]}); goal under {1000 * goal:.0f} ms",
            "",
            "| panel | ms |",
            "|---|---|",
            *(f"| {name} | {1000 * seconds:.0f} |" for name, seconds in timings),
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("panels.py", __doc__, "panels.md")
    parser.add_argument(
        "--sessions",
        type=int,
        default=3,
        help="run folders of 10 episodes (default 3: W2 on Postgres)",
    )
    parser.add_argument(
        "--database",
        help="time the panels on this Postgres database, built from the same --sessions folders "
        "(default: build a fresh one)",
    )
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    folders = generate(args.data, args.sessions)[: args.sessions]
    lines = [f"# Grafana panels on a {10 * args.sessions}-episode Postgres warehouse", ""]
    if args.database:
        lines += panel_report({"PGDATABASE": args.database}, folders[0])
    else:
        with (
            tempfile.TemporaryDirectory(prefix="bench-panels-") as workdir,
            warehouse("postgres", Path(workdir)) as env,
        ):
            stages = load("W2", "postgres", env, folders, Path(workdir))
            lines += [
                f"- {s.stage}: {s.seconds:.1f} s, peak RSS {s.peak_rss_mib:.0f} MiB, "
                f"{s.rows:,} rows (observations + extended_properties)"
                for s in stages
            ]
            lines += panel_report(env, folders[0])
    report = "\n".join(lines) + "\n"
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
