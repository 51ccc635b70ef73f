"""dbt's unit tests (YAML `unit_tests:`, hand-made inputs for every computation) pass on both
targets. The other tests build with the production `dbt build`, which leaves them out."""

from __future__ import annotations

import yaml

from extract.settings import REPO_ROOT
from tests.warehouse import Warehouse


def declared_unit_tests() -> set[str]:
    """Names of the unit tests declared in the project's YAML files."""
    names = set()
    for path in (REPO_ROOT / "dbt_project").rglob("*.yml"):
        document = yaml.safe_load(path.read_text()) or {}
        names |= {test["name"] for test in document.get("unit_tests", [])}
    return names


def test_every_unit_test_passes(built: Warehouse) -> None:
    declared = declared_unit_tests()
    assert len(declared) >= 8
    built.dbt("test", "--select", "test_type:unit")
    statuses = {
        result["unique_id"].rsplit(".", 1)[-1]: result["status"]
        for result in built.run_results()
        if result["unique_id"].startswith("unit_test.")
    }
    assert statuses == dict.fromkeys(declared, "pass")
