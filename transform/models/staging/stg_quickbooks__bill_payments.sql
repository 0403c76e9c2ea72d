with bill_payments as (
    {{ live_rows('bill_payments') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('VendorRef') }} as vendor_id,
    {{ ref_id('APAccountRef') }} as ap_account_id,
    "PayType" as pay_type,
    coalesce(
        {{ json_text('"CheckPayment"', ['BankAccountRef', 'value']) }},
        {{ json_text('"CreditCardPayment"', ['CCAccountRef', 'value']) }}
    ) as payment_account_id
from bill_payments
