"""Grafana files, without a database: the provisioning files, the generated dashboard JSON and
its identity (uid and title) as the dbt exposures declare it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from extract.settings import REPO_ROOT
from grafana.generator import dashboard as generator
from grafana.generator.exposures import dashboard_exposures
from grafana.panel_queries import all_panels, load_dashboards

GRAFANA = REPO_ROOT / "grafana"
DATASOURCE_TYPE = "grafana-postgresql-datasource"
PANEL_TYPES = {"trend", "stat", "table", "heatmap", "histogram", "xychart", "barchart", "text"}
# What Grafana accepts as a dashboard uid.
UID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def provisioned_datasource() -> dict[str, Any]:
    """The one provisioned datasource."""
    files = sorted((GRAFANA / "provisioning" / "datasources").glob("*.yaml"))
    assert len(files) == 1, files
    document = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    assert document["apiVersion"] == 1
    (datasource,) = document["datasources"]
    return datasource


def generator_files() -> list[Path]:
    """The JSON files the dashboard modules write."""
    return [GRAFANA / "dashboards" / generator.file_name(m) for m in generator.MODULES]


def test_datasource_provisioning_reads_its_settings_from_the_environment() -> None:
    datasource = provisioned_datasource()
    assert datasource["type"] == DATASOURCE_TYPE
    assert re.fullmatch(r"[a-z0-9-]{1,40}", datasource["uid"])
    env = re.compile(r"\$\{[A-Z_]+\}")
    assert env.fullmatch(datasource["user"])
    assert env.fullmatch(datasource["jsonData"]["database"])
    assert re.fullmatch(r"\$\{[A-Z_]+\}:\$\{[A-Z_]+\}", datasource["url"])
    # no secret in the repository: the password only comes from the environment
    assert env.fullmatch(datasource["secureJsonData"]["password"])
    assert "password" not in datasource and "password" not in datasource["jsonData"]
    assert datasource["editable"] is False


def test_dashboard_provider_points_at_the_dashboard_files() -> None:
    (provider_file,) = sorted((GRAFANA / "provisioning" / "dashboards").glob("*.yaml"))
    document = yaml.safe_load(provider_file.read_text(encoding="utf-8"))
    assert document["apiVersion"] == 1
    (provider,) = document["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    grafana = compose["services"]["grafana"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    # docker-compose mounts grafana/dashboards where the provider reads, and the provisioning
    # folder where a stock Grafana looks for it
    assert (REPO_ROOT / mounts[path]).resolve() == GRAFANA / "dashboards"
    assert (REPO_ROOT / mounts["/etc/grafana/provisioning"]).resolve() == GRAFANA / "provisioning"
    for key in ("GRAFANA_DB_HOST", "GRAFANA_DB_PORT", "GRAFANA_DB_NAME", "GRAFANA_DB_USER"):
        assert key in grafana["environment"]


def test_dashboards_are_generated_from_the_generator() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grafana.generator", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "up to date"


def test_every_dashboard_parses_with_the_uid_and_title_of_its_exposure() -> None:
    dashboards = load_dashboards()
    exposures = dashboard_exposures()
    assert set(dashboards) == set(exposures) == {file.name for file in generator_files()}
    assert len(dashboards) == 6
    for name, dashboard in dashboards.items():
        assert (dashboard["uid"], dashboard["title"]) == (
            exposures[name].uid,
            exposures[name].title,
        )
        assert UID.fullmatch(dashboard["uid"]), dashboard["uid"]
        assert dashboard.get("id") is None  # provisioned: Grafana assigns the id
        assert dashboard["timepicker"]["hidden"] is True  # frames, not time
        ids = [panel["id"] for panel in all_panels(dashboard)]
        assert len(ids) == len(set(ids)), name
        for panel in all_panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["type"] in PANEL_TYPES, panel["type"]
            assert panel["pluginVersion"], panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
    for key in ("uid", "title"):
        values = [dashboard[key] for dashboard in dashboards.values()]
        assert len(set(values)) == len(values), key


def test_every_datasource_reference_is_the_provisioned_one() -> None:
    expected = {"type": DATASOURCE_TYPE, "uid": provisioned_datasource()["uid"]}
    for name, dashboard in load_dashboards().items():
        text = json.dumps(dashboard)
        assert "${DS_" not in text, name  # no export placeholders
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["datasource"] == expected, (name, variable["name"])
        for panel in all_panels(dashboard):
            if panel["type"] in ("row", "text"):
                assert "targets" not in panel or not panel["targets"]
                continue
            assert panel["datasource"] == expected, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"] == expected, (name, panel["title"])
                assert target["format"] == "table" and target["rawQuery"] is True
                assert "marts." in target["rawSql"], (name, panel["title"])


def test_exposures_that_disagree_with_the_generator_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A url that does not end in the exposure's uid, a dashboard file outside
    grafana/dashboards/, and a dashboard module without an exposure stop the generator."""
    document = yaml.safe_load(
        (REPO_ROOT / "dbt_project" / "models" / "exposures.yml").read_text(encoding="utf-8")
    )
    exposures = tmp_path / "exposures.yml"
    first = document["exposures"][0]
    for field, value, message in [
        ("url", "http://localhost:3000/d/other-uid", "url does not end in"),
        ("meta", {**first["meta"], "dashboard_file": "elsewhere/x.json"}, "is not in"),
    ]:
        broken = {"exposures": [{**first, field: value}]}
        exposures.write_text(yaml.safe_dump(broken), encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            dashboard_exposures(exposures)
    found = dashboard_exposures()
    found.pop("spatial.json")
    monkeypatch.setattr(generator, "dashboard_exposures", lambda: found)
    with pytest.raises(
        ValueError, match=r"the exposures name \['episodes.json', 'explore.json', 'overview"
    ):
        generator.generate()
