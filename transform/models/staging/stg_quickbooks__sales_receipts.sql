with sales_receipts as (
    {{ live_rows('sales_receipts') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('CustomerRef') }} as customer_id,
    {{ ref_id('DepositToAccountRef') }} as deposit_account_id,
    {{ json_money('"TxnTaxDetail"', ['TotalTax']) }} as total_tax
from sales_receipts
