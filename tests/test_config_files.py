"""Configuration files: hostile YAML is refused, odd values become valid JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from extract.config_files import MAX_EXPANDED_NODES, json_text, read_yaml_mapping
from extract.errors import InputFileError

BILLION_LAUGHS = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(InputFileError) as error:
        read_yaml_mapping(path, "a mapping", "hint")
    assert str(error.value) == (
        f"{path}: expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases "
        "(write the values out instead of repeating them through aliases)"
    )


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("seeds: &s [1, 2, 3]\nagent: {seeds: *s}\n")
    assert json.loads(json_text(read_yaml_mapping(path, "a mapping", "hint"))) == {
        "agent": {"seeds": [1, 2, 3]},
        "seeds": [1, 2, 3],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]\n", "expected a mapping of sections, found list"),
        ("a: [unclosed\n", "invalid YAML: "),
        ("\xff\xfe", "invalid YAML: "),
    ],
)
def test_not_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputFileError) as error:
        read_yaml_mapping(path, "a mapping of sections", "hint")
    assert str(error.value).startswith(f"{path}: {message}")


def test_json_text_of_awkward_values() -> None:
    value = {
        1: "int key",
        "nan": float("nan"),
        "inf": [float("inf"), -float("inf")],
        "day": date(2025, 1, 2),
        "array": np.array([[1.5, 2.0]]),
        "scalar": np.float32(0.5),
        (2, 3): None,
    }
    assert json.loads(json_text(value)) == {
        "1": "int key",
        "nan": "nan",
        "inf": ["inf", "-inf"],
        "day": "2025-01-02",
        "array": [[1.5, 2.0]],
        "scalar": 0.5,
        "(2, 3)": None,
    }
