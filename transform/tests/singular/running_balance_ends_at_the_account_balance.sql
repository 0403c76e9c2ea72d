-- Each account's running balance after its last posting equals the sum of all its postings in its natural
-- sign: the running balance does not drift (dbt_quickbooks' #106).
with ledger as (
    select
        *,
        row_number() over (
            partition by realm_id, account_id
            order by transaction_date desc, transaction_type desc, transaction_id desc, transaction_line_id desc
        ) as from_last
    from {{ ref('quickbooks__general_ledger') }}
),

totals as (
    select
        realm_id,
        account_id,
        sum(case when account_classification in ('Asset', 'Expense') then amount else -amount end) as balance
    from ledger
    group by realm_id, account_id
)

select ledger.realm_id, ledger.account_id, ledger.running_balance, totals.balance
from ledger
inner join totals on ledger.realm_id = totals.realm_id and ledger.account_id = totals.account_id
where ledger.from_last = 1 and ledger.running_balance <> totals.balance
