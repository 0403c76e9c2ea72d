with credit_memos as (
    {{ live_rows('credit_memos') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('CustomerRef') }} as customer_id,
    {{ optional_ref_id(source('quickbooks', 'credit_memos'), 'ARAccountRef') }} as ar_account_id,
    {{ json_money('"TxnTaxDetail"', ['TotalTax']) }} as total_tax,
    {{ money('"Balance"') }} as balance
from credit_memos
