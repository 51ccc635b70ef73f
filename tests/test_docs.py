"""The dbt docs site: `dbt docs generate` works on both targets, every source, seed, model and
column has a description, and every Grafana dashboard has an exposure pointing at its file.

"Every column" means every column of the built relations (the docs catalog), not only those
the YAML lists. Two kinds of columns are created from the data, so YAML cannot name them:

- the 3D per-target columns (`distance_target_center_<k>`, `distance_target_mesh_<k>`,
  `target_mesh_closest_point_<k>_x/_y/_z`, one set per target k in the landed data) of
  raw.boids_3d_frames, stg_boids_3d__frames and int_boids_3d__frames: they count as described
  when the relation's description documents the pattern (doc block boids_3d_target_columns);
- the property columns of observation_properties_wide that its YAML does not list (targets
  k > 1, definitions added later): they count as described by the database comment its
  post-hook writes from property_definitions, which the catalog carries.

Any other column needs a description in the YAML beside its model, seed or source.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from extract.settings import REPO_ROOT
from tests.samples import write_family_samples
from tests.warehouse import Warehouse, duckdb_warehouse

PER_TARGET_COLUMN = re.compile(
    r"(distance_target_center|distance_target_mesh)_\d+|target_mesh_closest_point_\d+_[xyz]"
)
PER_TARGET_RELATIONS = {
    "source.tracking.boids_3d.boids_3d_frames",
    "model.tracking.stg_boids_3d__frames",
    "model.tracking.int_boids_3d__frames",
}
PATTERN_DOCUMENTED = "distance_target_center_<k>"
WIDE_MODEL = "model.tracking.observation_properties_wide"
DASHBOARD_DIR = REPO_ROOT / "grafana" / "dashboards"


@dataclass
class Docs:
    """The artefacts of one `dbt docs generate`."""

    manifest: dict[str, Any]
    catalog: dict[str, Any]
    target_path: Path


def docs_generate(warehouse: Warehouse, target_path: Path) -> Docs:
    """Run `dbt docs generate` against the warehouse into its own target folder."""
    warehouse.dbt("docs", "generate", target_path=target_path)
    return Docs(
        json.loads((target_path / "manifest.json").read_text(encoding="utf-8")),
        json.loads((target_path / "catalog.json").read_text(encoding="utf-8")),
        target_path,
    )


@pytest.fixture(scope="module")
def duckdb_docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docs]:
    """Docs of a DuckDB warehouse holding every source family."""
    samples = write_family_samples(tmp_path_factory.mktemp("docs-samples"))
    with duckdb_warehouse(tmp_path_factory.mktemp("docs-duckdb")) as warehouse:
        warehouse.build(samples)
        yield docs_generate(warehouse, tmp_path_factory.mktemp("docs-duckdb-target"))


@pytest.fixture(scope="module")
def postgres_docs(postgres_built: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Docs:
    """Docs of the shared Postgres warehouse (conftest: two 3D runs)."""
    return docs_generate(postgres_built, tmp_path_factory.mktemp("docs-postgres-target"))


def described(text: str | None) -> bool:
    return bool((text or "").strip())


def project_resources(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The project's models, seeds, snapshots and sources (not dbt's or packages')."""
    for unique_id, node in {**manifest["nodes"], **manifest["sources"]}.items():
        if node["package_name"] == "tracking" and node["resource_type"] in (
            "model",
            "seed",
            "snapshot",
            "source",
        ):
            yield unique_id, node


def missing_descriptions(docs: Docs) -> list[str]:
    """Every project resource or column without a description (see the module docstring)."""
    problems = []
    for unique_id, node in project_resources(docs.manifest):
        if not described(node["description"]):
            problems.append(f"{unique_id}: no description")
        if node["resource_type"] == "source" and not described(node["source_description"]):
            problems.append(f"{unique_id}: its source has no description")
        yaml_columns = {}
        for name, column in node["columns"].items():
            yaml_columns[name.lower()] = column
            if not described(column["description"]):
                problems.append(f"{unique_id}.{name}: no description")
        built = docs.catalog["sources" if node["resource_type"] == "source" else "nodes"]
        if unique_id not in built:
            continue  # e.g. a source family not landed on this warehouse
        for name, column in built[unique_id]["columns"].items():
            if name.lower() in yaml_columns:
                continue
            if unique_id == WIDE_MODEL and described(column.get("comment")):
                continue
            if (
                unique_id in PER_TARGET_RELATIONS
                and PER_TARGET_COLUMN.fullmatch(name.lower())
                and PATTERN_DOCUMENTED in node["description"]
            ):
                continue
            problems.append(f"{unique_id}.{name}: built column without a description")
    return problems


def marts_read_by(dashboard: dict[str, Any]) -> set[str]:
    """The marts a dashboard's queries (panels and variables) read."""
    return set(re.findall(r"\bmarts\.(\w+)", json.dumps(dashboard)))


def exposure_problems(manifest: dict[str, Any]) -> list[str]:
    """Exposures that do not match the dashboard files one to one."""
    problems = []
    files = {f"grafana/dashboards/{path.name}" for path in DASHBOARD_DIR.glob("*.json")}
    exposed = set()
    for unique_id, exposure in manifest["exposures"].items():
        meta = exposure["meta"]
        path = REPO_ROOT / meta.get("dashboard_file", "")
        exposed.add(meta.get("dashboard_file"))
        if exposure["type"] != "dashboard" or not described(exposure["description"]):
            problems.append(f"{unique_id}: not a described dashboard exposure")
        if not path.is_file() or path.suffix != ".json":
            problems.append(f"{unique_id}: dashboard file {path} does not exist")
            continue
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        if dashboard["uid"] != meta.get("grafana_uid") or not exposure["url"].endswith(
            "/d/" + dashboard["uid"]
        ):
            problems.append(f"{unique_id}: uid or url differ from {path.name}")
        depends = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
        if depends != marts_read_by(dashboard):
            problems.append(
                f"{unique_id}: depends_on {sorted(depends)}, "
                f"the dashboard reads {sorted(marts_read_by(dashboard))}"
            )
    problems += [f"{name}: no exposure" for name in sorted(files - exposed)]
    return problems


def test_docs_generate_works_on_both_targets(duckdb_docs: Docs, postgres_docs: Docs) -> None:
    for docs in (duckdb_docs, postgres_docs):
        assert (docs.target_path / "index.html").is_file()
        assert "model.tracking.observations" in docs.catalog["nodes"]
        assert "source.tracking.boids_3d.boids_3d_frames" in docs.catalog["sources"]


def test_every_source_seed_model_and_column_is_described(
    duckdb_docs: Docs, postgres_docs: Docs
) -> None:
    # the DuckDB warehouse holds every family; the Postgres one adds that target's catalog
    assert {
        "source.tracking.boids_2d.boids_2d_frames",
        "source.tracking.tracking_csv.tracking_csv_frames",
    } <= set(duckdb_docs.catalog["sources"])
    problems = missing_descriptions(duckdb_docs) + missing_descriptions(postgres_docs)
    assert not problems, "\n".join(problems)


def test_every_dashboard_has_an_exposure_pointing_at_its_file(duckdb_docs: Docs) -> None:
    assert len(duckdb_docs.manifest["exposures"]) == len(list(DASHBOARD_DIR.glob("*.json"))) == 6
    problems = exposure_problems(duckdb_docs.manifest)
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_is_missing(duckdb_docs: Docs) -> None:
    """The checks above fail on an undescribed model or column, an undescribed built column and
    an exposure whose dashboard file does not exist."""
    docs = Docs(copy.deepcopy(duckdb_docs.manifest), copy.deepcopy(duckdb_docs.catalog), Path())
    model = docs.manifest["nodes"]["model.tracking.frame_stats"]
    model["description"] = ""
    model["columns"]["mean_speed"]["description"] = " "
    del model["columns"]["centroid_x"]
    stg = docs.manifest["nodes"]["model.tracking.stg_boids_3d__frames"]
    stg["description"] = "no pattern documented"
    problems = missing_descriptions(docs)
    assert "model.tracking.frame_stats: no description" in problems
    assert "model.tracking.frame_stats.mean_speed: no description" in problems
    assert "model.tracking.frame_stats.centroid_x: built column without a description" in problems
    assert any(
        p.startswith("model.tracking.stg_boids_3d__frames.distance_target_center_1")
        for p in problems
    )
    exposure = next(iter(docs.manifest["exposures"].values()))
    exposure["meta"]["dashboard_file"] = "grafana/dashboards/missing.json"
    problems = exposure_problems(docs.manifest)
    assert any("missing.json does not exist" in p for p in problems)
    assert any(p.endswith(": no exposure") for p in problems)
