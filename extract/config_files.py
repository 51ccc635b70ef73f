"""Configuration and metadata files (config.yaml, Metadata.yaml, _config.pt dicts): read them
safely and turn them into the JSON text the raw tables hold."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import yaml

from extract.errors import InputFileError

FRAME_RATE_KEYS = (("simulator", "frame_rate"), ("simulator", "fps"), ("frame_rate",), ("fps",))
FRAME_RATE_RANGE = (0.0, 100_000.0)
# A YAML document may repeat a node through aliases; expanded into JSON, a few lines of
# nested aliases can become gigabytes ("billion laughs"). Configs are small: refuse more.
MAX_EXPANDED_NODES = 1_000_000
# Configs nest a few levels (sections, species, food); JSON text and jsonb need a bound.
MAX_DEPTH = 100


def read_yaml_mapping(path: Path, expected: str, hint: str) -> dict:
    """A YAML file holding a mapping (an empty file is an empty mapping); `expected` names
    the mapping in the message when the file holds something else."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"invalid YAML: {exc}", hint) from exc
    except RecursionError:  # the parser recurses once per level
        raise InputFileError(path, f"nested more than {MAX_DEPTH} levels deep", hint) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InputFileError(path, f"expected {expected}, found {type(document).__name__}", hint)
    check_structure(path, document)
    return document


def _children(node: object) -> list[object]:
    if isinstance(node, dict):
        return list(node.values())
    return list(node) if isinstance(node, (list, tuple)) else []


def check_structure(path: Path, document: object) -> None:
    """Refuse a configuration value that JSON cannot hold or that is too big: a value inside
    itself (a YAML alias or a pickled dict that refers to itself), nesting deeper than
    MAX_DEPTH, or more than MAX_EXPANDED_NODES values once aliases are expanded (a node
    shared through aliases counts once per use). Walked without recursion."""
    sizes: dict[int, int] = {}  # id -> expanded size, of the nodes walked
    open_nodes: set[int] = set()  # the nodes whose children are being walked: the ancestors
    stack: list[tuple[object, int, bool]] = [(document, 1, False)]
    while stack:
        node, depth, walked = stack.pop()
        key = id(node)
        if not isinstance(node, (dict, list, tuple)) or (key in sizes and not walked):
            continue
        if walked:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
            if sizes[key] > MAX_EXPANDED_NODES:
                raise InputFileError(
                    path,
                    f"expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases",
                    "write the values out instead of repeating them through aliases",
                )
            continue
        if key in open_nodes:
            raise InputFileError(
                path,
                "a value contains itself (a cycle), which JSON cannot hold",
                "write the values out instead of referring back to them",
            )
        if depth > MAX_DEPTH:
            raise InputFileError(path, f"nested more than {MAX_DEPTH} levels deep")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def json_value(value: object) -> object:
    """A configuration value as JSON data: keys become text, numpy values and tensors become
    numbers and lists, dates ISO text, and non-finite floats the strings 'nan', 'inf', '-inf'
    (JSON has no such numbers, and Postgres jsonb refuses them)."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if hasattr(value, "tolist"):
        return json_value(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def json_text(value: object) -> str:
    """Canonical JSON text (sorted keys) of a configuration value."""
    return json.dumps(json_value(value), sort_keys=True)


def frame_rate(config: dict, path: Path) -> float | None:
    """The frame rate a config states (simulator.frame_rate, simulator.fps, frame_rate or
    fps), if any; an unusable value is refused."""
    for keys in FRAME_RATE_KEYS:
        node: object = config
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            continue
        low, high = FRAME_RATE_RANGE
        if isinstance(node, bool) or not isinstance(node, (int, float)) or not low < node < high:
            raise InputFileError(
                path,
                f"{'.'.join(keys)} must be a positive number of frames per second, got {node!r}",
            )
        return float(node)
    return None
