{#
  Spark: the table materialisation, building before it replaces. dbt-spark's own drops the
  table and then creates it (parquet tables have no `create or replace`), so a model that
  fails leaves no table at all. This one creates `<name>__dbt_new`, and only once that has
  succeeded renames the previous table away, the new one into its place, and drops the
  previous one: a failed build leaves the previous table queryable, as on DuckDB and Postgres
  (where the swap is one transaction; here it is two renames of the metastore).
#}
{% materialization table, adapter='spark', supported_languages=['sql'] %}
    {%- set identifier = model['alias'] -%}
    {%- set existing = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- set target_relation = api.Relation.create(identifier=identifier, schema=schema, database=database, type='table') -%}
    {%- set new_relation = target_relation.incorporate(path={'identifier': identifier ~ '__dbt_new'}) -%}
    {%- set previous_relation = target_relation.incorporate(path={'identifier': identifier ~ '__dbt_previous'}) -%}

    {{ run_hooks(pre_hooks) }}

    {#- leftovers of a build killed half-way -#}
    {{ adapter.drop_relation(new_relation) }}
    {{ adapter.drop_relation(previous_relation) }}

    {%- call statement('main') -%}
        {{ create_table_as(False, new_relation, compiled_code) }}
    {%- endcall -%}

    {%- if existing is not none -%}
        {{ adapter.rename_relation(existing, previous_relation.incorporate(type=existing.type)) }}
    {%- endif -%}
    {{ adapter.rename_relation(new_relation, target_relation) }}
    {%- if existing is not none -%}
        {{ adapter.drop_relation(previous_relation.incorporate(type=existing.type)) }}
    {%- endif -%}

    {% do persist_docs(target_relation, model) %}

    {{ run_hooks(post_hooks) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
