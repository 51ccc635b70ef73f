{{ config(materialized='view') }}
{#- Observations of every source family in one shape (source_families()). -#}
{{ union_families('int_{family}__frames', observation_columns()) }}
