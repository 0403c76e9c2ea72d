{# Dialect-portable access to the JSON columns the target writes (DuckDB JSON, PostgreSQL jsonb). #}

{% macro json_text(column, key) -%}
    ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{% macro json_path_text(column, keys) -%}
    {{ return(adapter.dispatch('json_path_text', 'qbo_looker')(column, keys)) }}
{%- endmacro %}

{% macro default__json_path_text(column, keys) -%}
    ({{ column }} #>> '{ {{- keys | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_path_text(column, keys) -%}
    json_extract_string({{ column }}, '$.{{ keys | join('.') }}')
{%- endmacro %}

{# One row per element of a JSON array column, exposed as `element` (JSON). #}
{% macro json_array_elements(relation_alias, column) -%}
    {{ return(adapter.dispatch('json_array_elements', 'qbo_looker')(relation_alias, column)) }}
{%- endmacro %}

{% macro default__json_array_elements(relation_alias, column) -%}
    cross join lateral jsonb_array_elements(coalesce({{ relation_alias }}.{{ column }}, '[]'::jsonb)) as line(element)
{%- endmacro %}

{% macro duckdb__json_array_elements(relation_alias, column) -%}
    cross join lateral (select unnest(cast(coalesce({{ relation_alias }}.{{ column }}, '[]') as json[])) as element) as line
{%- endmacro %}

{% macro to_money(expr) -%}
    cast({{ expr }} as decimal(38, 9))
{%- endmacro %}
