{#
  Double entry per transaction type: every model below returns the same columns, one row per posting, so the
  general ledger is their union. Each posting is one side (debit or credit) of one line; the header side
  (A/R, A/P, the bank) posts the document's TotalAmt, so "debits = credits per transaction" checks the lines
  against the total. Voided documents post nothing (QuickBooks zeroes them).
#}

{% macro posting(side, amount) -%}
    case when {{ side }} = 'debit' then {{ amount }} else 0 end as debit_amount,
    case when {{ side }} = 'credit' then {{ amount }} else 0 end as credit_amount
{%- endmacro %}

{#
  The final select of every double-entry model, from a `postings` CTE with realm_id, transaction_id,
  transaction_line_id, transaction_date, account_id, side ('debit' or 'credit'), amount, customer_id, vendor_id.
#}
{% macro select_postings(transaction_type) -%}
select
    realm_id,
    transaction_id,
    '{{ transaction_type }}' as transaction_type,
    transaction_line_id,
    transaction_date,
    account_id,
    {{ posting('side', 'amount') }},
    customer_id,
    vendor_id
from postings
{%- endmacro %}

{# The CTEs a document-with-lines model reads besides its documents: lines, items, default accounts. #}
{% macro line_ctes(lines_model) -%}
lines as (
    select * from {{ ref(lines_model) }}
),

items as (
    select * from {{ ref('stg_quickbooks__items') }}
),

defaults as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),
{%- endmacro %}

{% macro live_transactions(model) -%}
    select * from {{ ref(model) }} where coalesce(transaction_status, '') <> 'Voided'
{%- endmacro %}

{#
  Sales documents. `header_side` is where the header account takes the total: 'debit' for Invoice and
  SalesReceipt (A/R or the deposit account), 'credit' for CreditMemo and RefundReceipt. Item lines post
  income on the other side (their Item's IncomeAccountRef; the line's ItemAccountRef when the item is not
  loaded), discounts on the header side, and sales tax to the sales tax liability on the other side.
#}
{% macro sales_double_entry(documents_model, lines_model, transaction_type, header_account, header_side) -%}
{%- set line_side = 'credit' if header_side == 'debit' else 'debit' -%}
with documents as (
    {{ live_transactions(documents_model) }}
),

{{ line_ctes(lines_model) }}

postings as (
    select
        documents.realm_id,
        documents.transaction_id,
        'header' as transaction_line_id,
        documents.transaction_date,
        {{ header_account }} as account_id,
        '{{ header_side }}' as side,
        documents.total_amount as amount,
        documents.customer_id,
        cast(null as varchar) as vendor_id
    from documents
    left join defaults on documents.realm_id = defaults.realm_id

    union all

    select
        documents.realm_id,
        documents.transaction_id,
        lines.line_id as transaction_line_id,
        documents.transaction_date,
        case
            when lines.detail_type = 'DiscountLineDetail'
                then coalesce(lines.discount_account_id, defaults.discount_account_id)
            else coalesce(items.income_account_id, lines.item_account_id)
        end as account_id,
        case when lines.detail_type = 'DiscountLineDetail' then '{{ header_side }}' else '{{ line_side }}' end as side,
        lines.amount,
        documents.customer_id,
        cast(null as varchar) as vendor_id
    from lines
    inner join documents
        on lines.realm_id = documents.realm_id and lines.transaction_id = documents.transaction_id
    left join items on lines.realm_id = items.realm_id and lines.item_id = items.item_id
    left join defaults on lines.realm_id = defaults.realm_id
    where lines.detail_type in ('SalesItemLineDetail', 'DiscountLineDetail')

    union all

    select
        documents.realm_id,
        documents.transaction_id,
        'tax' as transaction_line_id,
        documents.transaction_date,
        defaults.sales_tax_account_id as account_id,
        '{{ line_side }}' as side,
        documents.total_tax as amount,
        documents.customer_id,
        cast(null as varchar) as vendor_id
    from documents
    left join defaults on documents.realm_id = defaults.realm_id
    where documents.total_tax <> 0
)

{{ select_postings(transaction_type) }}
{%- endmacro %}

{#
  Purchase-side documents. The header account (A/P, or the bank/card of a Purchase) takes the total on
  `header_side` ('credit' for Bill and Purchase, 'debit' for VendorCredit and refund Purchases); lines post
  on the other side: an account-based line to its account, an item-based line to its Item's
  ExpenseAccountRef (the simulator keeps no inventory: purchases of Inventory items are expensed too).
#}
{% macro expense_double_entry(documents, lines_model, transaction_type, header_account, header_side, vendor_id) -%}
with documents as (
    {{ documents }}
),

{{ line_ctes(lines_model) }}

postings as (
    select
        documents.realm_id,
        documents.transaction_id,
        'header' as transaction_line_id,
        documents.transaction_date,
        {{ header_account }} as account_id,
        {{ header_side }} as side,
        documents.total_amount as amount,
        cast(null as varchar) as customer_id,
        {{ vendor_id }} as vendor_id
    from documents
    left join defaults on documents.realm_id = defaults.realm_id

    union all

    select
        documents.realm_id,
        documents.transaction_id,
        lines.line_id as transaction_line_id,
        documents.transaction_date,
        case
            when lines.detail_type = 'ItemBasedExpenseLineDetail' then items.expense_account_id
            else lines.account_id
        end as account_id,
        case when {{ header_side }} = 'debit' then 'credit' else 'debit' end as side,
        lines.amount,
        lines.customer_id,
        {{ vendor_id }} as vendor_id
    from lines
    inner join documents
        on lines.realm_id = documents.realm_id and lines.transaction_id = documents.transaction_id
    left join items on lines.realm_id = items.realm_id and lines.item_id = items.item_id
    where lines.detail_type in ('AccountBasedExpenseLineDetail', 'ItemBasedExpenseLineDetail')
)

{{ select_postings(transaction_type) }}
{%- endmacro %}
