{#
  Line arrays of the transaction streams, unnested once here so every stream's staging model is one call.
  Each line gets a line_id unique within its transaction: the QBO line Id, or `n<position>` for lines QBO sends
  without one (subtotal, discount); a group's inner lines are `<group line>.<inner line>`.
#}

{# Documents of `table` that are not deleted. #}
{% macro live_rows(table) -%}
    select * from {{ source('quickbooks', table) }} where _sdc_deleted_at is null
{%- endmacro %}

{% macro _line_id(element, ordinal) -%}
    coalesce({{ json_text(element, ['Id']) }}, 'n' || cast({{ ordinal }} as varchar))
{%- endmacro %}

{# Sales documents (Invoice, SalesReceipt, CreditMemo, RefundReceipt): item lines, group inner lines, discounts. #}
{% macro sales_lines(table) -%}
with documents as (
    {{ live_rows(table) }}
),

top_lines as (
    select
        documents.realm_id,
        documents."Id" as transaction_id,
        cast(null as varchar) as group_line_id,
        line.element,
        line.ordinal
    from documents
    {{ json_unnest('documents."Line"', 'line') }}
),

group_inner_lines as (
    select
        top_lines.realm_id,
        top_lines.transaction_id,
        {{ _line_id('top_lines.element', 'top_lines.ordinal') }} as group_line_id,
        inner_line.element,
        inner_line.ordinal
    from top_lines
    {{ json_unnest(json_value('top_lines.element', ['GroupLineDetail', 'Line']), 'inner_line') }}
    where {{ json_text('top_lines.element', ['DetailType']) }} = 'GroupLineDetail'
),

all_lines as (
    select * from top_lines
    union all
    select * from group_inner_lines
)

select
    realm_id,
    transaction_id,
    coalesce(group_line_id || '.', '') || {{ _line_id('element', 'ordinal') }} as line_id,
    group_line_id,
    cast(ordinal as integer) as line_position,
    {{ json_text('element', ['DetailType']) }} as detail_type,
    {{ json_text('element', ['Description']) }} as description,
    {{ json_money('element', ['Amount']) }} as amount,
    {{ json_text('element', ['SalesItemLineDetail', 'ItemRef', 'value']) }} as item_id,
    {{ json_text('element', ['SalesItemLineDetail', 'ItemAccountRef', 'value']) }} as item_account_id,
    {{ json_text('element', ['SalesItemLineDetail', 'ClassRef', 'value']) }} as class_id,
    {{ json_money('element', ['SalesItemLineDetail', 'Qty']) }} as quantity,
    {{ json_text('element', ['DiscountLineDetail', 'DiscountAccountRef', 'value']) }} as discount_account_id
from all_lines
{%- endmacro %}

{# Purchase-side documents (Bill, VendorCredit, Purchase): account- and item-based expense lines. #}
{% macro expense_lines(table) -%}
with documents as (
    {{ live_rows(table) }}
)

select
    documents.realm_id,
    documents."Id" as transaction_id,
    {{ _line_id('line.element', 'line.ordinal') }} as line_id,
    cast(line.ordinal as integer) as line_position,
    {{ json_text('line.element', ['DetailType']) }} as detail_type,
    {{ json_text('line.element', ['Description']) }} as description,
    {{ json_money('line.element', ['Amount']) }} as amount,
    {{ json_text('line.element', ['AccountBasedExpenseLineDetail', 'AccountRef', 'value']) }} as account_id,
    {{ json_text('line.element', ['ItemBasedExpenseLineDetail', 'ItemRef', 'value']) }} as item_id,
    coalesce(
        {{ json_text('line.element', ['AccountBasedExpenseLineDetail', 'CustomerRef', 'value']) }},
        {{ json_text('line.element', ['ItemBasedExpenseLineDetail', 'CustomerRef', 'value']) }}
    ) as customer_id,
    coalesce(
        {{ json_text('line.element', ['AccountBasedExpenseLineDetail', 'ClassRef', 'value']) }},
        {{ json_text('line.element', ['ItemBasedExpenseLineDetail', 'ClassRef', 'value']) }}
    ) as class_id
from documents
{{ json_unnest('documents."Line"', 'line') }}
{%- endmacro %}

{# Payment-side documents (Payment, BillPayment): one row per line and linked transaction. #}
{% macro linked_lines(table) -%}
with documents as (
    {{ live_rows(table) }}
),

lines as (
    select
        documents.realm_id,
        documents."Id" as transaction_id,
        line.element,
        line.ordinal
    from documents
    {{ json_unnest('documents."Line"', 'line') }}
)

select
    lines.realm_id,
    lines.transaction_id,
    {{ _line_id('lines.element', 'lines.ordinal') }} || '.' || cast(linked.ordinal as varchar) as line_id,
    {{ json_money('lines.element', ['Amount']) }} as amount,
    {{ json_text('linked.element', ['TxnId']) }} as linked_transaction_id,
    {{ json_text('linked.element', ['TxnType']) }} as linked_transaction_type
from lines
{{ json_unnest(json_value('lines.element', ['LinkedTxn']), 'linked') }}
{%- endmacro %}

{# The columns every transaction header shares (not Transfer's amount, which has no TotalAmt). #}
{% macro transaction_header(total=true) -%}
    realm_id,
    "Id" as transaction_id,
    "DocNumber" as doc_number,
    cast("TxnDate" as date) as transaction_date,
    "TxnStatus" as transaction_status,
    {{ ref_id('DepartmentRef') }} as department_id,
    {%- if total %}
    {{ money('"TotalAmt"') }} as total_amount,
    {%- endif %}
    cast(last_updated_at as timestamp) as updated_at
{%- endmacro %}
