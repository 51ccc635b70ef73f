"""The floor of W1 on Postgres: the least time this server takes just to write what W1's build
stores, in the same run's baseline episodes (docs/benchmarks.md, "Postgres W1").

In one run: the naive baseline (bench/baseline.py) on one episode; W1 (10 episodes) extracted
and built into a fresh database as bench/run.py does (`python extract/run.py`, the production
`dbt build`); then, for every table the build produced (schemas intermediate, marts,
reference), `create unlogged table <copy> as select * from <table>` and each of the table's
indexes on the copy, one statement after the other: the rows are already computed, so this is
writing them and nothing else. The copies' seconds summed are a floor for any build that
stores these tables on this server; the report sets them beside the extract's and the build's
seconds, in baseline episodes (W1's goal of 10x the baseline is W1 in ~1.5 of them).
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import run  # noqa: E402

SCHEMAS = ("intermediate", "marts", "reference")
COPIES = "floor_copies"


@dataclass
class Copy:
    """One table written again: its rows, and the seconds of the copy and of its indexes."""

    table: str
    rows: int
    copy_seconds: float
    index_seconds: float

    @property
    def seconds(self) -> float:
        return self.copy_seconds + self.index_seconds


def copy_tables(env: dict[str, str]) -> list[Copy]:
    """Copy every table of SCHEMAS (unlogged, with its indexes) into a scratch schema, timing
    each statement; the scratch schema is dropped afterwards."""
    copies = []
    with contextlib.closing(run.postgres_connection(env)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "select schemaname, tablename from pg_tables where schemaname = any(%s) "
                "order by 1, 2",
                (list(SCHEMAS),),
            )
            tables = cur.fetchall()
            cur.execute(f"drop schema if exists {COPIES} cascade; create schema {COPIES}")
            try:
                for schema, table in tables:
                    copies.append(copy_table(cur, schema, table))
            finally:
                cur.execute(f"drop schema {COPIES} cascade")
    return copies


def copy_table(cur, schema: str, table: str) -> Copy:
    """`create unlogged table ... as select *` of one table, then its indexes on the copy."""
    target = f"{COPIES}.{schema}__{table}"
    started = time.perf_counter()
    cur.execute(f'create unlogged table {target} as select * from {schema}."{table}"')
    copy_seconds = time.perf_counter() - started
    rows = cur.rowcount
    cur.execute(
        "select pg_get_indexdef(indexrelid) from pg_index where indrelid = %s::regclass",
        (f'{schema}."{table}"',),
    )
    definitions = [row[0] for row in cur.fetchall()]
    started = time.perf_counter()
    for definition in definitions:
        # CREATE [UNIQUE] INDEX name ON schema.table USING ... -> an unnamed index on the copy
        cur.execute(re.sub(r"INDEX \S+ ON \S+", f"INDEX ON {target}", definition, count=1))
    index_seconds = time.perf_counter() - started
    print(
        f"  {schema}.{table}: {rows:,} rows {copy_seconds:.1f} s, {len(definitions)} "
        f"indexes {index_seconds:.1f} s",
        flush=True,
    )
    return Copy(f"{schema}.{table}", rows, copy_seconds, index_seconds)


def render(baseline: run.Stage, stages: list[run.Stage], copies: list[Copy]) -> str:
    """The markdown report: each figure in seconds and in baseline episodes."""
    per_episode = baseline.seconds
    extract, build = stages
    floor = sum(c.seconds for c in copies)
    rows = [
        ("extract (`python extract/run.py`)", extract.seconds),
        ("dbt build (production)", build.seconds),
        ("W1 end to end", extract.seconds + build.seconds),
        (f"floor: {len(copies)} tables copied", sum(c.copy_seconds for c in copies)),
        ("floor: their indexes", sum(c.index_seconds for c in copies)),
        ("floor: copies and indexes", floor),
        ("extract + floor", extract.seconds + floor),
        # the baseline's seconds per row applied to W1's rows, divided by 10
        ("goal: 10x the baseline", per_episode / baseline.rows * extract.rows / 10),
    ]
    lines = [
        f"baseline (postgres): 1 episode, {baseline.rows:,} rows in {per_episode:.1f} s",
        "",
        "| what | s | baseline episodes |",
        "|---|---|---|",
        *(f"| {name} | {seconds:.1f} | {seconds / per_episode:.2f} |" for name, seconds in rows),
        "",
        "largest copies (s: copy + indexes):",
        *(
            f"- {c.table}: {c.rows:,} rows, {c.copy_seconds:.1f} + {c.index_seconds:.1f} s"
            for c in sorted(copies, key=lambda c: -c.seconds)[:8]
        ),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = run.bench_parser("postgres_floor.py", __doc__, "postgres_floor.md").parse_args(argv)
    folder = run.generate(args.data, 1)[0]
    with tempfile.TemporaryDirectory(prefix="tracking-floor-") as tmp:
        work = Path(tmp)
        with run.warehouse("postgres", work) as env:
            baseline = run.run_baseline(
                "postgres", env, sorted(folder.glob("episode-0-*.parquet"))[0]
            )
        dbt_dir = work / "dbt"
        with run.warehouse("postgres", work) as env:
            run.parse("postgres", env, dbt_dir)
            stages = run.load("W1", "postgres", env, [folder], dbt_dir)
            copies = copy_tables(env)
    run.write_report(args.out, render(baseline, stages, copies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
