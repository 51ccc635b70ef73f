"""The Grafana dashboards of grafana/dashboards/, generated: `python -m grafana.generator`.

The JSON is generated so that the SQL stays readable here (with comments) and the parts the
dashboards share are written once: `builders` (variables, panels, transformations), `sql`
(fragments of the queries), `variables` (session, episode, frame boxes) and `exposures` (uids
and titles, read from the dbt exposures). One module per dashboard (`overview`, `spatial`,
`windows`, `episodes`) holds its variables and panels; `dashboard` assembles them.

The x axis is frames, not time (grafana/README.md): frame-indexed panels are Trend panels (a
numeric ascending x field named `frame`), the time picker is hidden and no query uses the
time range. Series per agent or per episode are queried in long form (frame, series, value)
and pivoted by the "Grouping to matrix" transformation.
"""
