-- BillPayment: A/P debited with the total, the bank (check) or card account credited.
with bill_payments as (
    {{ live_transactions('stg_quickbooks__bill_payments') }}
),

defaults as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

postings as (
    select
        bill_payments.realm_id,
        bill_payments.transaction_id,
        'ap' as transaction_line_id,
        bill_payments.transaction_date,
        coalesce(bill_payments.ap_account_id, defaults.ap_account_id) as account_id,
        'debit' as side,
        bill_payments.total_amount as amount,
        cast(null as varchar) as customer_id,
        bill_payments.vendor_id
    from bill_payments
    left join defaults on bill_payments.realm_id = defaults.realm_id

    union all

    select
        realm_id,
        transaction_id,
        'payment' as transaction_line_id,
        transaction_date,
        payment_account_id as account_id,
        'credit' as side,
        total_amount as amount,
        cast(null as varchar) as customer_id,
        vendor_id
    from bill_payments
)

{{ select_postings('BillPayment') }}
