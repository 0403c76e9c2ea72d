{#
  A reference column that a stream may not have (the tap's schema decides which QBO fields become columns):
  the referenced Id when the relation has the column, else a null. Lets the models read e.g.
  Invoice.ARAccountRef where it is loaded without failing where it is not.
#}
{% macro optional_ref_id(relation, column) -%}
    {%- set present = false -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- set present = column in names -%}
    {%- endif -%}
    {%- if present -%}{{ json_text('"' ~ column ~ '"', ['value']) }}{%- else -%}cast(null as varchar){%- endif -%}
{%- endmacro %}

{# The Id inside a reference column (`{"value": "42", "name": "..."}`). #}
{% macro ref_id(column) -%}
    {{ json_text('"' ~ column ~ '"', ['value']) }}
{%- endmacro %}
