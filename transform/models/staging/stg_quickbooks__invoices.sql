with invoices as (
    {{ live_rows('invoices') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('CustomerRef') }} as customer_id,
    {{ optional_ref_id(source('quickbooks', 'invoices'), 'ARAccountRef') }} as ar_account_id,
    cast(coalesce("DueDate", "TxnDate") as date) as due_date,
    {{ json_money('"TxnTaxDetail"', ['TotalTax']) }} as total_tax,
    {{ money('"Balance"') }} as balance,
    {{ ref_id('CurrencyRef') }} as currency_code
from invoices
