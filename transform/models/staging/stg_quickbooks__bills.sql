with bills as (
    {{ live_rows('bills') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('VendorRef') }} as vendor_id,
    {{ ref_id('APAccountRef') }} as ap_account_id,
    cast(coalesce("DueDate", "TxnDate") as date) as due_date,
    {{ money('"Balance"') }} as balance
from bills
