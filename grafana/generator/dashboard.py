"""The dashboards assembled: one module per dashboard (named as its JSON file), laid out on
Grafana's 24-column grid, with the uid and title of its dbt exposure."""

from __future__ import annotations

import json
from types import ModuleType

from grafana.generator import episodes, explore, overview, rollouts, spatial, windows
from grafana.generator.builders import Json
from grafana.generator.exposures import dashboard_exposures

MODULES: tuple[ModuleType, ...] = (overview, spatial, windows, episodes, rollouts, explore)
TAG = "trajectory-warehouse"
SCHEMA_VERSION = 39


def file_name(module: ModuleType) -> str:
    """The JSON file a dashboard module writes: `overview.py` -> `overview.json`."""
    return module.__name__.rsplit(".", 1)[-1] + ".json"


def layout(panels: list[Json]) -> list[Json]:
    """Give each panel an id and a gridPos, filling rows of 24 columns left to right."""
    placed = []
    x = y = row_height = 0
    for index, source in enumerate(panels, start=1):
        item = dict(source)
        w, h = item.pop("w"), item.pop("h")
        if x + w > 24 or item["type"] == "row":
            x, y, row_height = 0, y + row_height, 0
        item = {"id": index, "gridPos": {"h": h, "w": w, "x": x, "y": y}, **item}
        placed.append(item)
        x += w
        row_height = max(row_height, h)
        if item["type"] == "row":
            x, y, row_height = 0, y + h, 0
    return placed


def dashboard(uid: str, title: str, variables: list[Json], panels: list[Json]) -> Json:
    """The dashboard JSON model, as provisioned (no id). Each links to the others by their
    common tag, carrying the variables."""
    return {
        "uid": uid,
        "title": title,
        "description": "Trajectory warehouse marts (grafana/README.md). The x axis is frames.",
        "tags": [TAG],
        "editable": True,
        "graphTooltip": 1,
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "",
        "liveNow": False,
        # Not used by any query: frames are not time. Hidden, so it cannot mislead.
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {"hidden": True},
        "annotations": {"list": []},
        "links": [
            {
                "title": "Trajectory dashboards",
                "type": "dashboards",
                "tags": [TAG],
                "asDropdown": False,
                "includeVars": True,
                "keepTime": False,
                "targetBlank": False,
                "icon": "external link",
            }
        ],
        "templating": {"list": variables},
        "panels": layout(panels),
    }


def generate() -> dict[str, str]:
    """File name -> JSON text of every dashboard. Raises ValueError unless the dashboard
    modules and the dashboard exposures name the same files."""
    exposures = dashboard_exposures()
    modules = {file_name(module): module for module in MODULES}
    if set(modules) != set(exposures):
        raise ValueError(
            f"dashboard modules write {sorted(modules)}, the exposures name {sorted(exposures)}"
        )
    return {
        name: json.dumps(
            dashboard(exposures[name].uid, exposures[name].title, module.VARIABLES, module.PANELS),
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
        for name, module in modules.items()
    }
