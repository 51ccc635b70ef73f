"""Builders of the dashboard JSON: variables, queries and panels.

Every query reads schema `marts` through the provisioned datasource (uid `tracking-marts`,
grafana/provisioning/datasources/). Panels carry the Grafana version they were written for:
without one, Grafana would migrate the XY chart options from the pre-10.4 format.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "tracking-marts"}
GRAFANA_VERSION = "11.6.0"


# --- variables --------------------------------------------------------------------------------


def query_variable(
    name: str,
    label: str,
    sql: str,
    *,
    multi: bool = False,
    hide: int = 0,
    description: str = "",
) -> Json:
    """A query variable on the marts datasource (refreshed on dashboard load and whenever a
    variable it uses changes). Keys are returned as text: BIGINT ids do not survive the trip
    through JavaScript numbers."""
    variable: Json = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": sql,
        "definition": sql,
        "refresh": 1,
        "sort": 0,
        "hide": hide,
        "multi": multi,
        "includeAll": multi,
        "options": [],
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if multi else {},
        "regex": "",
        "skipUrlSync": False,
    }
    if description:
        variable["description"] = description
    return variable


def custom_variable(
    name: str, label: str, options: list[str], chosen: list[str], description: str
) -> Json:
    """A variable of fixed options (several may be chosen when `chosen` has more than one).
    Its values reach SQL only as quoted literals (`${name:sqlstring}`): Grafana accepts any
    value from a dashboard URL, not only the options."""
    multi = len(chosen) > 1
    return {
        "name": name,
        "label": label,
        "type": "custom",
        "query": ",".join(options),
        "multi": multi,
        "includeAll": False,
        "current": {
            "selected": True,
            "text": chosen if multi else chosen[0],
            "value": chosen if multi else chosen[0],
        },
        "options": [{"selected": o in chosen, "text": o, "value": o} for o in options],
        "hide": 0,
        "description": description,
        "skipUrlSync": False,
    }


def textbox_variable(name: str, label: str, description: str, default: str = "") -> Json:
    """A free-text variable; empty means "the default" (the queries say which)."""
    return {
        "name": name,
        "label": label,
        "type": "textbox",
        "query": default,
        "current": {"selected": False, "text": default, "value": default},
        "options": [{"selected": True, "text": default, "value": default}],
        "hide": 0,
        "description": description,
        "skipUrlSync": False,
    }


# --- panels -----------------------------------------------------------------------------------


def sql_target(sql: str, ref_id: str = "A") -> Json:
    """A raw SQL query returning a table."""
    return {
        "refId": ref_id,
        "datasource": DATASOURCE,
        "editorMode": "code",
        "format": "table",
        "rawQuery": True,
        "rawSql": sql,
    }


def panel(kind: str, title: str, description: str, sql: str | None, **extra: Any) -> Json:
    """A panel; `w`/`h` (grid units) are consumed by the layout."""
    result: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "w": extra.pop("w", 12),
        "h": extra.pop("h", 8),
        "pluginVersion": GRAFANA_VERSION,
    }
    if sql is not None:
        result["datasource"] = DATASOURCE
        result["targets"] = [sql_target(sql)]
    result.update(extra)
    return result


def legend(show: bool = True) -> Json:
    """A list legend below the chart."""
    return {"showLegend": show, "displayMode": "list", "placement": "bottom", "calcs": []}


def tooltip(mode: str) -> Json:
    """A tooltip of one series ("single") or of all ("multi"), unsorted."""
    return {"mode": mode, "sort": "none"}


def by_name(name: str, **properties: Any) -> Json:
    """A field override for the field named `name` (`custom__x` sets `custom.x`)."""
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key.replace("__", "."), "value": v} for key, v in properties.items()],
    }


def field_config(**defaults: Any) -> Json:
    """Field defaults and no override."""
    return {"defaults": defaults, "overrides": []}


def trend(
    title: str,
    description: str,
    sql: str,
    axis_label: str,
    *,
    overrides: list[Json] | None = None,
    transformations: list[Json] | None = None,
    legend_shown: bool = True,
) -> Json:
    """A frame-indexed line chart: the Trend panel, x = the `frame` column (ascending)."""
    custom = {
        "drawStyle": "line",
        "lineInterpolation": "linear",
        "lineWidth": 1,
        "fillOpacity": 0,
        "showPoints": "auto",
        "spanNulls": False,
        "axisLabel": axis_label,
        "axisPlacement": "auto",
    }
    return panel(
        "trend",
        title,
        description,
        sql,
        fieldConfig={
            "defaults": {"unit": "none", "color": {"mode": "palette-classic"}, "custom": custom},
            "overrides": overrides or [],
        },
        options={"xField": "frame", "legend": legend(legend_shown), "tooltip": tooltip("multi")},
        transformations=transformations or [],
    )


def pivot(series: str, value: str, row: str = "frame") -> list[Json]:
    """Transformations turning long rows (row, series, value) into one frame: a numeric `row`
    field followed by one field per series value ("Grouping to matrix" makes the row key a
    string field named "<row>\\<series>"; it is converted back to a number and renamed)."""
    key = f"{row}\\{series}"
    return [
        {
            "id": "groupingToMatrix",
            "options": {
                "rowField": row,
                "columnField": series,
                "valueField": value,
                "emptyValue": "null",
            },
        },
        {
            "id": "convertFieldType",
            "options": {
                "conversions": [{"targetField": key, "destinationType": "number"}],
                "fields": {},
            },
        },
        organize(rename={key: row}),
    ]


def organize(*, rename: dict[str, str] | None = None, exclude: list[str] = ()) -> Json:
    """The "Organize fields" transformation: rename fields, leave some out."""
    return {
        "id": "organize",
        "options": {
            "renameByName": rename or {},
            "excludeByName": dict.fromkeys(exclude, True),
            "indexByName": {},
            "includeByName": {},
        },
    }


def table(title: str, description: str, sql: str, **extra: Any) -> Json:
    """A table panel, three decimals."""
    return panel(
        "table",
        title,
        description,
        sql,
        fieldConfig=field_config(
            decimals=3, custom={"align": "auto", "cellOptions": {"type": "auto"}}
        ),
        options={
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "fields": ""},
        },
        **extra,
    )


def heatmap(
    title: str,
    description: str,
    sql: str,
    *,
    value: str,
    unit: str,
    decimals: int,
    axis_label: str,
    **extra: Any,
) -> Json:
    """A top-down heatmap of a dense grid of cells (rows x, y and `value`, in (x, y) order),
    pivoted to one column per y: orange, darker where larger, empty cells (0) blank."""
    return panel(
        "heatmap",
        title,
        description,
        sql,
        w=12,
        h=12,
        fieldConfig=field_config(unit=unit),
        options={
            "calculate": False,
            "cellGap": 0,
            "color": {
                "mode": "scheme",
                "scheme": "Oranges",
                "fill": "dark-orange",
                "scale": "exponential",
                "exponent": 0.5,
                "steps": 64,
                "reverse": False,
            },
            "filterValues": {"le": 1e-9},
            "rowsFrame": {"layout": "auto"},
            "yAxis": {"axisPlacement": "left", "axisLabel": axis_label},
            "cellValues": {"unit": unit, "decimals": decimals},
            "showValue": "never",
            "legend": {"show": True},
            "tooltip": {"mode": "single", "yHistogram": False, "showColorScale": False},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
        },
        transformations=pivot("y", value, row="x"),
        **extra,
    )


def barchart(
    title: str, description: str, sql: str, x_field: str, axis_label: str, **extra: Any
) -> Json:
    """Grouped bars, one group per value of `x_field`."""
    return panel(
        "barchart",
        title,
        description,
        sql,
        fieldConfig=field_config(
            unit="none",
            decimals=3,
            color={"mode": "palette-classic"},
            custom={
                "axisLabel": axis_label,
                "axisPlacement": "auto",
                "fillOpacity": 80,
                "lineWidth": 1,
                "gradientMode": "none",
            },
        ),
        options={
            "xField": x_field,
            "orientation": "auto",
            "showValue": "auto",
            "stacking": "none",
            "groupWidth": 0.7,
            "barWidth": 0.9,
            "xTickLabelRotation": 0,
            "xTickLabelSpacing": 0,
            "legend": legend(),
            "tooltip": tooltip("multi"),
        },
        **extra,
    )


def xychart(
    title: str,
    description: str,
    sql: str,
    *,
    x: str,
    y: str,
    color: str | None = None,
    show: str = "points",
    transformations: list[Json] | None = None,
    field_color: Json | None = None,
    axis_label: str = "",
    **extra: Any,
) -> Json:
    """An XY chart (v2 options: one series mapping for every frame), without a legend."""
    series: Json = {
        "x": {"matcher": {"id": "byName", "options": x}},
        "y": {"matcher": {"id": "byName", "options": y}},
    }
    if color:
        series["color"] = {"matcher": {"id": "byName", "options": color}}
    return panel(
        "xychart",
        title,
        description,
        sql,
        fieldConfig=field_config(
            unit="none",
            color=field_color or {"mode": "continuous-GrYlRd"},
            custom={
                "show": show,
                "pointSize": {"fixed": 6},
                "pointShape": "circle",
                "pointStrokeWidth": 1,
                "fillOpacity": 60,
                "lineWidth": 1,
                "lineStyle": {"fill": "solid"},
                "axisLabel": axis_label,
                "axisPlacement": "auto",
                "hideFrom": {"legend": False, "tooltip": False, "viz": False},
            },
        ),
        options={
            "mapping": "auto",
            "series": [series],
            "legend": legend(False),
            "tooltip": tooltip("single"),
        },
        transformations=transformations or [],
        **extra,
    )


def text(title: str, content: str, **extra: Any) -> Json:
    """A markdown text panel (no query)."""
    return panel(
        "text",
        title,
        "",
        None,
        options={"mode": "markdown", "content": content, "code": {"language": "sql"}},
        **extra,
    )


def row(title: str) -> Json:
    """A full-width row header."""
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "w": 24, "h": 1}
