with payments as (
    {{ live_rows('payments') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('CustomerRef') }} as customer_id,
    {{ ref_id('DepositToAccountRef') }} as deposit_account_id,
    {{ ref_id('ARAccountRef') }} as ar_account_id,
    {{ money('"UnappliedAmt"') }} as unapplied_amount
from payments
