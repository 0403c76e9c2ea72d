-- Purchases (cash, check, credit card expenses); Credit = true is a refund from the vendor.
with purchases as (
    {{ live_rows('purchases') }}
)

select
    {{ transaction_header() }},
    "PaymentType" as payment_type,
    {{ ref_id('AccountRef') }} as payment_account_id,
    {{ json_text('"EntityRef"', ['value']) }} as entity_id,
    {{ json_text('"EntityRef"', ['type']) }} as entity_type,
    coalesce("Credit", false) as is_credit
from purchases
