"""The dashboards' SQL as Grafana runs it: variables resolved by running the dashboards' own
variable queries, Grafana's variable formats and SQL macros expanded. Used by
tests/test_grafana_panels.py (every panel against a real warehouse) and bench/run.py (panel
timings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

DASHBOARD_FILES = sorted((Path(__file__).resolve().parent / "dashboards").glob("*.json"))

VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"
)


class PanelQueryError(ValueError):
    """A variable or format this module cannot resolve, or a variable without options."""


@dataclass
class Value:
    """A variable's current value(s), as Grafana holds it."""

    values: list[str]
    multi: bool


def load_dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON."""
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in DASHBOARD_FILES}


def all_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside (collapsed) rows."""
    for item in dashboard["panels"]:
        yield item
        yield from item.get("panels", [])


def quote_literal(value: str) -> str:
    """The SQL datasources' quoteLiteral."""
    return "'" + value.replace("'", "''") + "'"


def format_value(value: Value, fmt: str | None) -> str:
    """A variable value in one of Grafana's formats (the SQL datasources' default when none)."""
    if fmt is None:
        if value.multi:
            return ",".join(quote_literal(v) for v in value.values)
        return value.values[0].replace("'", "''")
    if fmt == "sqlstring":
        return ",".join(quote_literal(v) for v in value.values)
    if fmt in ("raw", "csv"):
        return ",".join(value.values)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in value.values)
    raise PanelQueryError(f"variable format {fmt} is not expanded here")


def expand_macros(statement: str) -> str:
    """Grafana's SQL macros (for a dashboard time range that no panel here uses)."""
    start, end = "1970-01-01T00:00:00Z", "1970-01-01T06:00:00Z"
    statement = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        lambda m: f"{m.group(1)} BETWEEN '{start}' AND '{end}'",
        statement,
    )
    statement = statement.replace("$__timeFrom()", f"'{start}'").replace("$__timeTo()", f"'{end}'")
    return statement.replace("$__unixEpochFrom()", "0").replace("$__unixEpochTo()", "21600")


def interpolate(statement: str, values: dict[str, Value]) -> str:
    """The statement with every known variable replaced and the macros expanded."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name not in values:
            return match.group(0)
        return format_value(values[name], fmt)

    expanded = expand_macros(VARIABLE.sub(replace, statement))
    leftover = re.search(r"\$\w+|\$\{|\[\[", expanded)
    if leftover is not None:
        raise PanelQueryError(f"not expanded: {leftover.group(0)} in\n{expanded}")
    return expanded


def run(connection: psycopg2.extensions.connection, statement: str) -> tuple[list[str], list]:
    """Column names and rows of a statement."""
    with connection.cursor() as cur:
        cur.execute(statement)
        return [column.name for column in cur.description], cur.fetchall()


def custom_value(variable: dict[str, Any], wanted: str | None) -> Value:
    """A custom variable's value: its default, or the options `wanted` names (comma-separated);
    an option it does not have is an error, as a typo in a test should be."""
    multi = bool(variable.get("multi"))
    if wanted is None:
        current = variable["current"]["value"]
        return Value(list(current) if multi else [current], multi)
    chosen = wanted.split(",") if multi else [wanted]
    options = variable["query"].split(",")
    unknown = [value for value in chosen if value not in options]
    if unknown:
        raise PanelQueryError(f"{variable['name']}: {unknown} not among {options}")
    return Value(chosen, multi)


def resolve_variables(
    dashboard: dict[str, Any],
    connection: psycopg2.extensions.connection,
    picks: dict[str, str | None],
    textboxes: dict[str, str],
) -> dict[str, Value]:
    """Every variable's value, as a user sets them: query variables run their own SQL in
    order; `picks` chooses an option by its text (first option when absent or None; multi
    query variables take all; a custom variable keeps its dashboard default, or takes the
    comma-separated options picked), `textboxes` overrides text box defaults."""
    values: dict[str, Value] = {}
    for variable in dashboard["templating"]["list"]:
        name = variable["name"]
        if variable["type"] == "textbox":
            values[name] = Value([textboxes.get(name, variable["query"])], multi=False)
            continue
        if variable["type"] == "custom":
            values[name] = custom_value(variable, picks.get(name))
            continue
        if variable["type"] != "query":
            raise PanelQueryError(f"variable {name}: type {variable['type']} is not resolved here")
        columns, rows = run(connection, interpolate(variable["query"], values))
        if not rows:
            raise PanelQueryError(f"variable {name} has no options for {picks}")
        if "__value" in columns:
            options = [
                (str(r[columns.index("__text")]), str(r[columns.index("__value")])) for r in rows
            ]
        else:
            options = [(str(r[0]), str(r[0])) for r in rows]
        multi = bool(variable.get("multi") or variable.get("includeAll"))
        wanted = picks.get(name)
        if multi:
            chosen = [value for _, value in options]  # "All"
        elif wanted is not None:
            chosen = [value for text, value in options if text == wanted]
            if not chosen:
                raise PanelQueryError(f"{name} {wanted!r} not among {[t for t, _ in options]}")
        else:
            chosen = [options[0][1]]
        values[name] = Value(chosen, multi)
    return values
