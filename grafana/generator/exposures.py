"""The dashboards' uids and titles, declared once: in the dbt exposures.

Each dashboard is a dbt exposure in dbt_project/models/exposures.yml (its docs-site entry,
with the marts it reads). The exposure names the dashboard's JSON file
(`meta.dashboard_file`), its Grafana uid (`meta.grafana_uid`, also the end of its `url`) and
its title (`label`). The generator writes them into the JSON; the tests read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPOSURES_FILE = REPO_ROOT / "dbt_project" / "models" / "exposures.yml"
DASHBOARD_FOLDER = "grafana/dashboards"


@dataclass(frozen=True)
class DashboardExposure:
    """One dashboard as its exposure declares it."""

    exposure: str
    uid: str
    title: str
    file_name: str


def dashboard_exposures(path: Path = EXPOSURES_FILE) -> dict[str, DashboardExposure]:
    """The dashboard exposures by file name in grafana/dashboards/ (e.g. `overview.json`).

    Raises ValueError where an exposure's file is elsewhere or its url does not end in its
    uid: the two are written side by side in the YAML and must agree."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, DashboardExposure] = {}
    for exposure in document["exposures"]:
        if exposure["type"] != "dashboard":
            continue
        meta = exposure["meta"]
        file = Path(meta["dashboard_file"])
        uid = meta["grafana_uid"]
        if file.parent != Path(DASHBOARD_FOLDER) or file.suffix != ".json":
            raise ValueError(f"exposure {exposure['name']}: {file} is not in {DASHBOARD_FOLDER}")
        if not exposure["url"].endswith(f"/d/{uid}"):
            raise ValueError(f"exposure {exposure['name']}: url does not end in /d/{uid}")
        found[file.name] = DashboardExposure(exposure["name"], uid, exposure["label"], file.name)
    return found
