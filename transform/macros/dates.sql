{# Date math that differs between DuckDB and PostgreSQL. #}

{# Whole days from `start` to `end` (dates). #}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'qbo_looker')(start, end)) }}
{%- endmacro %}

{% macro default__days_between(start, end) -%}
    (cast({{ end }} as date) - cast({{ start }} as date))
{%- endmacro %}

{% macro duckdb__days_between(start, end) -%}
    date_diff('day', cast({{ start }} as date), cast({{ end }} as date))
{%- endmacro %}

{# The last day of the month of the date `expr`. #}
{% macro month_last_day(expr) -%}
    {{ return(adapter.dispatch('month_last_day', 'qbo_looker')(expr)) }}
{%- endmacro %}

{% macro default__month_last_day(expr) -%}
    cast(date_trunc('month', cast({{ expr }} as timestamp)) + interval '1 month' - interval '1 day' as date)
{%- endmacro %}

{% macro duckdb__month_last_day(expr) -%}
    last_day(cast({{ expr }} as date))
{%- endmacro %}

{# The first day of the month of the date `expr`. #}
{% macro month_first_day(expr) -%}
    cast(date_trunc('month', cast({{ expr }} as timestamp)) as date)
{%- endmacro %}

{# A from-clause item: one row per `step` ('day' or 'month') from `start` to `end`, as `<alias>.series_value`. #}
{% macro date_series(start, end, step, alias) -%}
    generate_series(cast({{ start }} as timestamp), cast({{ end }} as timestamp), interval '1 {{ step }}')
        as {{ alias }}(series_value)
{%- endmacro %}

{#
  The aging dates: the dbt var `as_of_date`, a date (YYYY-MM-DD) or a list of dates (one aging per date,
  e.g. `--vars '{as_of_date: [2026-06-30, 2026-12-31]}'`), by default today.
#}
{% macro _as_of_list() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' -%}
        {{ return([]) }}
    {%- elif value is string or value is not iterable -%}
        {{ return([value | string]) }}
    {%- else -%}
        {{ return(value | map('string') | list) }}
    {%- endif -%}
{%- endmacro %}

{# A select of one row per aging date, column as_of_date. #}
{% macro as_of_dates() -%}
    {%- set dates = _as_of_list() -%}
    {%- if not dates -%}
    select current_date as as_of_date
    {%- else -%}
    {%- for day in dates %}
    {% if not loop.first %}union all {% endif %}select cast('{{ day }}' as date) as as_of_date
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# The latest aging date as a SQL date (where statements end: balance sheet months, cash days). #}
{% macro as_of_date() -%}
    {%- set dates = _as_of_list() -%}
    {%- if not dates -%}current_date{%- else -%}cast('{{ dates | max }}' as date){%- endif -%}
{%- endmacro %}
