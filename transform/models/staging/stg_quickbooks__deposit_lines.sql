-- Deposit lines: money from another account (DepositLineDetail.AccountRef) or a linked payment/receipt.
with deposits as (
    {{ live_rows('deposits') }}
)

select
    deposits.realm_id,
    deposits."Id" as transaction_id,
    coalesce({{ json_text('line.element', ['Id']) }}, 'n' || cast(line.ordinal as varchar)) as line_id,
    {{ json_money('line.element', ['Amount']) }} as amount,
    {{ json_text('line.element', ['DepositLineDetail', 'AccountRef', 'value']) }} as account_id,
    {{ json_text('line.element', ['DepositLineDetail', 'Entity', 'value']) }} as entity_id,
    {{ json_text('line.element', ['DepositLineDetail', 'Entity', 'type']) }} as entity_type,
    {{ json_text('line.element', ['LinkedTxn', 0, 'TxnId']) }} as linked_transaction_id,
    {{ json_text('line.element', ['LinkedTxn', 0, 'TxnType']) }} as linked_transaction_type
from deposits
{{ json_unnest('deposits."Line"', 'line') }}
