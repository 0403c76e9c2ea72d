{#
  Adapter differences behind dispatched macros, so one model set runs on DuckDB (JSON) and PostgreSQL (jsonb).
  `path` is a list of object keys and array indexes, e.g. ['SalesItemLineDetail', 'ItemRef', 'value'].
#}

{# The text at `path` inside the JSON expression `expr` (null when absent). #}
{% macro json_text(expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'qbo_looker')(expr, path)) }}
{%- endmacro %}

{% macro default__json_text(expr, path) -%}
    ({{ expr }}) #>> '{ {{- path | join(',') -}} }'
{%- endmacro %}

{% macro duckdb__json_text(expr, path) -%}
    json_extract_string({{ expr }}, '$
    {%- for key in path -%}
        {%- if key is number -%}[{{ key }}]{%- else -%}."{{ key }}"{%- endif -%}
    {%- endfor -%}')
{%- endmacro %}

{# The JSON value at `path` inside `expr` (for unnesting nested arrays such as a group line's Line). #}
{% macro json_value(expr, path) -%}
    {{ return(adapter.dispatch('json_value', 'qbo_looker')(expr, path)) }}
{%- endmacro %}

{% macro default__json_value(expr, path) -%}
    ({{ expr }}) #> '{ {{- path | join(',') -}} }'
{%- endmacro %}

{% macro duckdb__json_value(expr, path) -%}
    json_extract({{ expr }}, '$
    {%- for key in path -%}
        {%- if key is number -%}[{{ key }}]{%- else -%}."{{ key }}"{%- endif -%}
    {%- endfor -%}')
{%- endmacro %}

{#
  A lateral join with one row per element of the JSON array `expr`, exposed as `<alias>.element` (JSON) and
  `<alias>.ordinal` (1-based position). Anything that is not an array (null, missing) gives no rows.
#}
{% macro json_unnest(expr, alias) -%}
    {{ return(adapter.dispatch('json_unnest', 'qbo_looker')(expr, alias)) }}
{%- endmacro %}

{% macro default__json_unnest(expr, alias) -%}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ expr }}) = 'array' then {{ expr }} else '[]'::jsonb end
    ) with ordinality as {{ alias }}(element, ordinal)
{%- endmacro %}

{% macro duckdb__json_unnest(expr, alias) -%}
    cross join lateral (
        select unnest(items) as element, generate_subscripts(items, 1) as ordinal
        from (
            select cast(case when json_type({{ expr }}) = 'ARRAY' then {{ expr }} else '[]' end as json[]) as items
        ) as arrays
    ) as {{ alias }}
{%- endmacro %}

{# The one way money enters the models: exact decimals, never through float (JSON text or a DECIMAL column). #}
{% macro money(expr) -%}
    cast({{ expr }} as decimal(38, 9))
{%- endmacro %}

{# Money at `path` of a JSON expression. #}
{% macro json_money(expr, path) -%}
    {{ money(json_text(expr, path)) }}
{%- endmacro %}
