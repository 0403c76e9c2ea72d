-- Payment: the deposit account (Undeposited Funds by default) debited, A/R credited with the total
-- (applied and unapplied alike; the aging models follow which invoices it pays).
with payments as (
    {{ live_transactions('stg_quickbooks__payments') }}
),

defaults as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

postings as (
    select
        payments.realm_id,
        payments.transaction_id,
        'deposit' as transaction_line_id,
        payments.transaction_date,
        coalesce(payments.deposit_account_id, defaults.undeposited_funds_account_id) as account_id,
        'debit' as side,
        payments.total_amount as amount,
        payments.customer_id,
        cast(null as varchar) as vendor_id
    from payments
    left join defaults on payments.realm_id = defaults.realm_id

    union all

    select
        payments.realm_id,
        payments.transaction_id,
        'ar' as transaction_line_id,
        payments.transaction_date,
        coalesce(payments.ar_account_id, defaults.ar_account_id) as account_id,
        'credit' as side,
        payments.total_amount as amount,
        payments.customer_id,
        cast(null as varchar) as vendor_id
    from payments
    left join defaults on payments.realm_id = defaults.realm_id
)

{{ select_postings('Payment') }}
