"""docker-compose.yml runs Postgres with `-c` settings only (the production profile
bench/postgres_settings.py reads from it), and the README's table lists each of them."""

from __future__ import annotations

import yaml

from extract.settings import REPO_ROOT


def test_readme_lists_every_setting_compose_runs() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["postgres"]["command"]
    assert command[0] == "postgres"
    assert command[1::2] == ["-c"] * (len(command) // 2)
    settings = dict(setting.split("=", 1) for setting in command[2::2])
    assert "max_wal_size" in settings
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for key, value in settings.items():
        assert f"| `{key}` | `{value}` |" in readme, key
