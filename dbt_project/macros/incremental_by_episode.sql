{#
  Per-episode incremental builds.

  An incremental model keyed by episode (materialized='incremental',
  incremental_strategy='delete+insert', unique_key='episode_id') filters its input with
  `where episode_id in ({{ episodes_to_build() }})` when is_incremental(), and records what it
  built with `post_hook="{{ record_built_episodes() }}"`. An episode is rebuilt when the extract
  run that last landed it (raw.episode_loads.load_seq) differs from the one the model last
  built; delete+insert then replaces exactly that episode's rows. The state lives in
  intermediate.incremental_state, one row per (model, episode), and only advances after the
  model was built successfully: a failed build is simply redone by the next one.
#}

{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='intermediate', identifier='incremental_state')) }}
{%- endmacro %}

{% macro create_incremental_state() -%}
    create schema if not exists intermediate;
    create table if not exists {{ tracking.incremental_state_relation() }} (
        model_name varchar not null,
        episode_id bigint not null,
        load_seq bigint not null
    );
{%- endmacro %}

{% macro episodes_to_build() -%}
    select loads.episode_id
    from {{ ref('stg_extract__episode_loads') }} as loads
    left join {{ tracking.incremental_state_relation() }} as state
        on state.model_name = '{{ this.identifier }}'
        and state.episode_id = loads.episode_id
    where state.load_seq is null or state.load_seq <> loads.load_seq
{%- endmacro %}

{% macro record_built_episodes() -%}
    delete from {{ tracking.incremental_state_relation() }}
    where model_name = '{{ this.identifier }}';
    insert into {{ tracking.incremental_state_relation() }} (model_name, episode_id, load_seq)
    select '{{ this.identifier }}', episode_id, load_seq
    from {{ ref('stg_extract__episode_loads') }};
{%- endmacro %}
