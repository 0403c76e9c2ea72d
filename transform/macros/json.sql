{#
  Dialect-portable access to the JSON columns the target writes (DuckDB JSON, PostgreSQL jsonb).
  `->` and `->>` chain the same way in both, so only unnesting an array needs a dialect-specific macro.
#}

{# One row per element of the JSON array column `column` of `relation_alias`, exposed as `line.element`. #}
{% macro json_array_elements(relation_alias, column) -%}
    {{ return(adapter.dispatch('json_array_elements', 'qbo_looker')(relation_alias, column)) }}
{%- endmacro %}

{% macro default__json_array_elements(relation_alias, column) -%}
    cross join lateral jsonb_array_elements(coalesce({{ relation_alias }}.{{ column }}, '[]'::jsonb)) as line(element)
{%- endmacro %}

{% macro duckdb__json_array_elements(relation_alias, column) -%}
    cross join lateral (
        select unnest(cast(coalesce({{ relation_alias }}.{{ column }}, '[]') as json[])) as element
    ) as line
{%- endmacro %}

{# Exact money from a JSON number: never through float. #}
{% macro json_money(expr) -%}
    cast({{ expr }} as decimal(38, 9))
{%- endmacro %}
