-- Daily balance of every bank account, from the company's first transaction to the later of its last one
-- and as_of_date.
with ledger as (
    select * from {{ ref('quickbooks__general_ledger') }}
),

bank_accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
    where account_type = 'Bank'
),

company_days as (
    select
        realm_id,
        min(transaction_date) as first_day,
        greatest(max(transaction_date), {{ as_of_date() }}) as last_day
    from ledger
    group by realm_id
),

all_days as (
    select cast(days.series_value as date) as day
    from {{ date_series(
        '(select min(first_day) from company_days)', '(select max(last_day) from company_days)', 'day', 'days'
    ) }}
),

daily_changes as (
    select realm_id, account_id, transaction_date, sum(debit_amount - credit_amount) as net_debit
    from ledger
    group by 1, 2, 3
),

grid as (
    select company_days.realm_id, all_days.day, bank_accounts.account_id, bank_accounts.account_name
    from company_days
    inner join all_days on all_days.day between company_days.first_day and company_days.last_day
    inner join bank_accounts on company_days.realm_id = bank_accounts.realm_id
)

select
    grid.realm_id,
    grid.day as date,
    grid.account_id,
    grid.account_name,
    sum(coalesce(daily_changes.net_debit, 0)) over (
        partition by grid.realm_id, grid.account_id
        order by grid.day
        rows between unbounded preceding and current row
    ) as balance
from grid
left join daily_changes
    on grid.realm_id = daily_changes.realm_id
    and grid.account_id = daily_changes.account_id
    and grid.day = daily_changes.transaction_date
