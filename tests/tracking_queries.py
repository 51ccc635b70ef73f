"""Helpers of the tracking test modules: episode ids, the observations and properties the marts
hold for an episode, and the observations a CSV file should give, worked out with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from extract.ids import stable_id
from tests.warehouse import Warehouse


def episode_id(session: str, camera: str, file_name: str) -> int:
    return stable_id("tracking_csv", session, camera, file_name)


def expected_rows(shape: str, frame: pd.DataFrame) -> dict[tuple[int, int], tuple]:
    """(agent_id, time_index) -> (x, y, z, v_x, v_y, v_z) worked out with pandas: the box
    centre for bboxes, backward differences within a track, None across a missing frame."""
    frame = frame.sort_values(["track_id", "frame"]).reset_index(drop=True)
    if shape == "bboxes":
        frame["x"] = (frame.x1 + frame.x2) / 2
        frame["y"] = (frame.y1 + frame.y2) / 2
    if "z" not in frame:
        frame["z"] = np.nan
    previous = frame.groupby("track_id")[["frame", "x", "y", "z"]].shift(1)
    step = (frame.frame - previous.frame) == 1
    rows = {}
    for i, r in frame.iterrows():
        v = [(r[a] - previous[a][i]) if step[i] and not np.isnan(r[a]) else None for a in "xyz"]
        rows[(int(r.track_id), int(r.frame))] = (
            float(r.x),
            float(r.y),
            None if np.isnan(r.z) else float(r.z),
            *v,
        )
    return rows


def observations(warehouse: Warehouse, episode: int) -> dict[tuple[int, int], tuple]:
    rows = warehouse.query(
        "select agent_id, time_index, agent_type_id, x, y, z, v_x, v_y, v_z "
        f"from marts.observations where episode_id = {episode}"
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def properties(warehouse: Warehouse, episode: int) -> dict[tuple[int, int], dict[str, object]]:
    """(agent_id, time_index) -> {property_id: value_float or value_text}, for the properties
    of category tracking_csv (computed ones such as speed are not this family's)."""
    rows = warehouse.query(
        "select o.agent_id, o.time_index, p.property_id, p.value_float, p.value_text "
        "from marts.extended_properties p join marts.observations o using (observation_id) "
        "join marts.property_category_mapping m using (property_id) "
        f"where p.episode_id = {episode} and m.category_id = 'tracking_csv'"
    )
    found: dict[tuple[int, int], dict[str, object]] = {}
    for agent, time, prop, number, text in rows:
        found.setdefault((agent, time), {})[prop] = number if text is None else text
    return found
