{#
  The read-only login role Grafana connects as (grafana/README.md).

  Run on Postgres by the project's on-run-end hook (`{{ grafana_role_sql() }}`, after every
  dbt build/run/seed/test) and available on its own as `dbt run-operation grafana_role`; a
  no-op on DuckDB, which has no roles. It

  - creates the login role GRAFANA_DB_USER (default `grafana_reader`) when it does not exist:
    no superuser, database or role creation, replication or RLS bypass; every session
    read-only (default_transaction_read_only) with a 60 s statement timeout, JIT off;
  - never sets a password: dbt writes every statement it runs to its debug log, so the
    password is set by `python grafana/set_password.py` (GRAFANA_DB_PASSWORD), which sends
    only its SCRAM-SHA-256 verifier;
  - in the current database: USAGE on schema marts, SELECT on every table and view in it, and
    SELECT on the tables dbt creates there later (default privileges of the dbt user; dbt
    also recreates table models on every build, which this hook re-grants anyway);
  - revokes anything granted to the role directly on every other schema of the database
    (raw, a run's raw_load_*, staging, intermediate, reference, public, ...). Privileges granted to
    PUBLIC are not touched (in Postgres 15 that is USAGE on schema public, where the
    warehouse keeps no tables), except
  - what lets a read-write transaction (`begin read write`) of a role without any write
    privilege leave something behind in this database: TEMPORARY on the database and
    EXECUTE on the functions that create large objects are revoked from PUBLIC (and from
    the role). Revoking TEMPORARY needs the database's owner (other roles that create
    temporary tables there then need it granted), the functions a superuser;
  - and it then checks that the role has none of these nor CREATE on the database or any
    schema, and fails, naming them, where it has (e.g. a dbt user that is not a superuser:
    an administrator revokes them once; grafana/README.md). What Postgres lets every role
    do (lift its statement_timeout, change its own password and session defaults) is
    stated in grafana/README.md.

  Creating the role needs CREATEROLE; where an administrator
  manages the role instead, create it once (CREATE ROLE grafana_reader LOGIN) and the grants
  still work, or skip the whole step with `--vars '{grafana_role: false}'`.

  A role belongs to the whole cluster while grants belong to one database, and several
  databases (the test suite's, or a dev and a prod warehouse) may run this at the same
  moment: creating the role tolerates a concurrent creation.
#}

{% macro grafana_role_name() -%}
    {%- set name = env_var('GRAFANA_DB_USER', 'grafana_reader') | trim -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}$', name) -%}
        {{ exceptions.raise_compiler_error(
            "GRAFANA_DB_USER must be a lower-case SQL identifier (letters, digits, _), not '" ~ name ~ "'") }}
    {%- endif -%}
    {{ return(name) }}
{%- endmacro %}

{% macro grafana_role_sql() -%}
    {#- `--vars '{grafana_role: false}'` skips it (e.g. where an administrator manages the role) -#}
    {%- if not var('grafana_role', true) -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('grafana_role_sql', 'tracking')()) }}
{%- endmacro %}

{% macro duckdb__grafana_role_sql() -%}
    {{ return('') }}
{%- endmacro %}

{% macro default__grafana_role_sql() -%}
    {%- set role = tracking.grafana_role_name() -%}
do $grafana_role$
declare
    role_name constant text := '{{ role }}';
    -- the functions that create a large object (which outlives the transaction's session)
    lo_creators constant regprocedure[] := array[
        'lo_creat(integer)', 'lo_create(oid)', 'lo_from_bytea(oid, bytea)',
        'lo_import(text)', 'lo_import(text, oid)'];
    lo_creator regprocedure;
    other_schema name;
    left_over text;
begin
    if role_name = current_user then
        raise exception 'GRAFANA_DB_USER (%) is the user dbt runs as: Grafana needs a role of its own', role_name;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
        begin
            execute format(
                'create role %I login nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
                role_name);
            execute format('alter role %I set default_transaction_read_only = on', role_name);
            execute format('alter role %I set statement_timeout = %L', role_name, '60s');
            -- dashboard queries are short: compiling them with JIT (which W2-sized tables'
            -- cost estimates trigger) took longer than running them (docs/benchmarks.md)
            execute format('alter role %I set jit = off', role_name);
            -- the explore dashboard's pooled panels sort a session's values (quantiles,
            -- histograms): in memory rather than in temporary files
            execute format('alter role %I set work_mem = %L', role_name, '64MB');
        exception
            when duplicate_object or unique_violation then
                null;  -- created by a concurrent run in another database
            when insufficient_privilege then
                raise exception 'cannot create the Grafana role %', role_name using hint =
                    'give the dbt user CREATEROLE, or create the role once as an administrator '
                    || '(CREATE ROLE ' || role_name || ' LOGIN), or skip this step with '
                    || '--vars ''{grafana_role: false}''';
        end;
    end if;
    if exists (
        select from pg_catalog.pg_roles
        where rolname = role_name and (rolsuper or rolcreaterole or rolcreatedb or rolbypassrls)
    ) then
        raise exception 'role % may write or administer: Grafana needs a plain read-only role', role_name;
    end if;
    if exists (select from pg_catalog.pg_namespace where nspname = 'marts') then
        execute format('grant usage on schema marts to %I', role_name);
        execute format('grant select on all tables in schema marts to %I', role_name);
        execute format(
            'alter default privileges in schema marts grant select on tables to %I', role_name);
    end if;
    for other_schema in
        select nspname from pg_catalog.pg_namespace
        where nspname <> 'marts' and nspname <> 'information_schema' and nspname !~ '^pg_'
    loop
        execute format('revoke all on schema %I from %I', other_schema, role_name);
        execute format('revoke all on all tables in schema %I from %I', other_schema, role_name);
        execute format(
            'alter default privileges in schema %I revoke all on tables from %I',
            other_schema, role_name);
    end loop;
    -- revoked only while the role has them: a user who may not revoke gets a warning, then
    -- the error below
    if has_database_privilege(role_name, current_database(), 'TEMPORARY') then
        execute format('revoke temporary on database %I from public, %I',
            current_database(), role_name);
    end if;
    foreach lo_creator in array lo_creators loop
        if has_function_privilege(role_name, lo_creator, 'EXECUTE') then
            execute format('revoke execute on function %s from public, %I', lo_creator, role_name);
        end if;
    end loop;
    select string_agg(privilege, ', ') into left_over from (
        select format('%s on database %I', kind, current_database()) as privilege
        from unnest(array['TEMPORARY', 'CREATE']) as kinds (kind)
        where has_database_privilege(role_name, current_database(), kind)
        union all
        select format('CREATE on schema %I', nspname) from pg_catalog.pg_namespace
        where has_schema_privilege(role_name, oid, 'CREATE')
        union all
        select format('EXECUTE on function %s', creator)
        from unnest(lo_creators) as creators (creator)
        where has_function_privilege(role_name, creator, 'EXECUTE')
    ) as privileges;
    if left_over is not null then
        raise exception 'the Grafana role % could write in database %: it has %',
            role_name, current_database(), left_over using hint =
            'revoke these from PUBLIC (and from any role it belongs to) once, as a superuser: '
            || 'grafana/README.md, "The read-only role"; or skip this step with '
            || '--vars ''{grafana_role: false}''';
    end if;
end
$grafana_role$
{%- endmacro %}

{# `dbt run-operation grafana_role`: the same, on its own. #}
{% macro grafana_role() -%}
    {%- set statement = tracking.grafana_role_sql() -%}
    {%- if statement | trim -%}
        {%- do run_query(statement) -%}
        {{ log("Grafana role " ~ tracking.grafana_role_name() ~ ": SELECT on schema marts of "
            ~ target.dbname ~ ", nothing on the other schemas", info=True) }}
    {%- else -%}
        {{ log("Grafana role: nothing to do on " ~ target.type ~ " (no database roles)", info=True) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__grafana_role_sql() -%}
    {{ return('') }}
{%- endmacro %}
