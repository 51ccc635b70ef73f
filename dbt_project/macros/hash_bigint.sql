{#
  A positive BIGINT from the first 64 bits of the MD5 of the parts joined with '|', top bit
  cleared. MD5 and the integer-to-text casts agree byte for byte between DuckDB and Postgres,
  so the same key gives the same id on both targets (checked by tests/test_targets_identical.py).
#}
{% macro hash_bigint(parts) -%}
    {{ return(adapter.dispatch('hash_bigint', 'tracking')(parts)) }}
{%- endmacro %}

{% macro hash_key_text(parts) -%}
    {%- for part in parts -%}
        cast({{ part }} as {{ dbt.type_string() }}){% if not loop.last %} || '|' || {% endif %}
    {%- endfor -%}
{%- endmacro %}

{% macro default__hash_bigint(parts) -%}
    (('x' || substr(md5({{ tracking.hash_key_text(parts) }}), 1, 16))::bit(64)::bigint
        & 9223372036854775807)
{%- endmacro %}

{% macro duckdb__hash_bigint(parts) -%}
    cast(
        cast('0x' || substr(md5({{ tracking.hash_key_text(parts) }}), 1, 16) as ubigint)
            & cast(9223372036854775807 as ubigint)
        as bigint)
{%- endmacro %}

{#- Spark: conv() reads the 16 hex digits as a signed 64-bit number (to base -10), whose low 63
    bits are the same as the other targets'. -#}
{% macro spark__hash_bigint(parts) -%}
    (cast(conv(substr(md5({{ tracking.hash_key_text(parts) }}), 1, 16), 16, -10) as bigint)
        & 9223372036854775807)
{%- endmacro %}
