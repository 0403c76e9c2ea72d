with vendor_credits as (
    {{ live_rows('vendor_credits') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('VendorRef') }} as vendor_id,
    {{ ref_id('APAccountRef') }} as ap_account_id,
    {{ money('"Balance"') }} as balance
from vendor_credits
