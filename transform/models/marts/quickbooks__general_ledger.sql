-- Every posting of every transaction, one row per line and side, with the account's running balance in its
-- natural sign (debit-normal for assets and expenses). Ordered by date, then type, Id and line, so the
-- running balance is the same on every run and every adapter.
{%- set double_entry_models = [
    'int_quickbooks__invoice_double_entry',
    'int_quickbooks__sales_receipt_double_entry',
    'int_quickbooks__credit_memo_double_entry',
    'int_quickbooks__refund_receipt_double_entry',
    'int_quickbooks__payment_double_entry',
    'int_quickbooks__deposit_double_entry',
    'int_quickbooks__bill_double_entry',
    'int_quickbooks__vendor_credit_double_entry',
    'int_quickbooks__purchase_double_entry',
    'int_quickbooks__bill_payment_double_entry',
    'int_quickbooks__transfer_double_entry',
    'int_quickbooks__journal_entry_double_entry',
] %}

with postings as (
    {%- for model in double_entry_models %}
    select * from {{ ref(model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

ledger as (
    select
        postings.realm_id,
        postings.transaction_id,
        postings.transaction_type,
        postings.transaction_line_id,
        postings.transaction_date,
        postings.account_id,
        accounts.account_name,
        accounts.account_type,
        accounts.classification as account_classification,
        postings.debit_amount,
        postings.credit_amount,
        postings.debit_amount - postings.credit_amount as amount,
        postings.customer_id,
        postings.vendor_id
    from postings
    left join accounts on postings.realm_id = accounts.realm_id and postings.account_id = accounts.account_id
    where postings.debit_amount <> 0 or postings.credit_amount <> 0
)

select
    *,
    sum(case when account_classification in ('Asset', 'Expense') then amount else -amount end) over (
        partition by realm_id, account_id
        order by transaction_date, transaction_type, transaction_id, transaction_line_id
        rows between unbounded preceding and current row
    ) as running_balance
from ledger
