with deposits as (
    {{ live_rows('deposits') }}
)

select
    {{ transaction_header() }},
    {{ ref_id('DepositToAccountRef') }} as deposit_account_id,
    {{ json_text('"CashBack"', ['AccountRef', 'value']) }} as cash_back_account_id,
    coalesce({{ json_money('"CashBack"', ['Amount']) }}, 0) as cash_back_amount
from deposits
