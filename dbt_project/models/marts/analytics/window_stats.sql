{{ config(indexes=indexes([{'columns': ['episode_id', 'window_index']}])) }}
{#- Per episode, fixed window of frames (var stats_window_frames, default 100) and metric:
    statistics over every value of the metric of every non-environment agent in the window.
    Window w covers frames [w * size, (w + 1) * size - 1]. #}
{%- set size = var('stats_window_frames') | int %}
{%- if size < 1 %}
    {{ exceptions.raise_compiler_error("stats_window_frames must be a positive integer") }}
{%- endif %}
{%- set metrics = var('window_stats_metrics') %}
{%- for name in metrics if name not in ['speed', 'acceleration_magnitude', 'distance_to_target'] %}
    {{ exceptions.raise_compiler_error(
        "window_stats_metrics: " ~ name ~ " is not one of speed, acceleration_magnitude, distance_to_target") }}
{%- endfor %}
with agent_frames as (
    {{ analytics_agent_frames() }}
),

metric_values as (
    select
        agent_frames.episode_id,
        cast(floor(agent_frames.time_index / {{ size }}.0) as bigint) as window_index,
        agent_frames.time_index,
        metric.metric,
        metric.metric_value
    from agent_frames
    {{ metric_rows('agent_frames', metrics) }}
    where metric.metric_value is not null
)

select
    episode_id,
    window_index,
    window_index * {{ size }} as window_start_frame,
    window_index * {{ size }} + {{ size - 1 }} as window_end_frame,
    cast({{ size }} as bigint) as window_frames,
    metric,
    count(*) as num_values,
    count(distinct time_index) as num_frames,
    avg(metric_value) as mean_value,
    stddev_samp(metric_value) as stddev_value,
    min(metric_value) as min_value,
    max(metric_value) as max_value,
    {{ continuous_percentile('metric_value', 0.05) }} as p05_value,
    {{ continuous_percentile('metric_value', 0.25) }} as p25_value,
    {{ continuous_percentile('metric_value', 0.5) }} as median_value,
    {{ continuous_percentile('metric_value', 0.75) }} as p75_value,
    {{ continuous_percentile('metric_value', 0.95) }} as p95_value
from metric_values
group by episode_id, window_index, metric
