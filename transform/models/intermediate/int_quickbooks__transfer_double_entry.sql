-- Transfer: the receiving account debited, the sending account credited.
with transfers as (
    {{ live_transactions('stg_quickbooks__transfers') }}
),

sides as (
    select 'to' as transaction_line_id, 'debit' as side
    union all
    select 'from' as transaction_line_id, 'credit' as side
),

postings as (
    select
        transfers.realm_id,
        transfers.transaction_id,
        sides.transaction_line_id,
        transfers.transaction_date,
        case when sides.side = 'debit' then transfers.to_account_id else transfers.from_account_id end as account_id,
        sides.side,
        transfers.amount,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as vendor_id
    from transfers
    cross join sides
)

{{ select_postings('Transfer') }}
