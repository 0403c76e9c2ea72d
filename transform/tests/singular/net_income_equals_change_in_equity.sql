-- Each month's P&L net income (revenue - expenses) equals that month's change in equity other than what
-- is posted to equity accounts directly (owner contributions, opening balances): the change of total equity
-- on the balance sheet minus the equity postings of the month in the ledger.
with equity as (
    select realm_id, period_last_day, sum(balance) as equity_total
    from {{ ref('quickbooks__balance_sheet') }}
    where account_classification = 'Equity'
    group by realm_id, period_last_day
),

direct_postings as (
    select realm_id, {{ month_last_day('transaction_date') }} as period_last_day, sum(credit_amount - debit_amount) as posted
    from {{ ref('quickbooks__general_ledger') }}
    where account_classification = 'Equity'
    group by 1, 2
),

earnings as (
    select
        equity.realm_id,
        equity.period_last_day,
        equity.equity_total - sum(coalesce(direct_postings.posted, 0)) over (
            partition by equity.realm_id
            order by equity.period_last_day
            rows between unbounded preceding and current row
        ) as earnings_to_date
    from equity
    left join direct_postings
        on equity.realm_id = direct_postings.realm_id and equity.period_last_day = direct_postings.period_last_day
),

changes as (
    select
        realm_id,
        {{ month_first_day('period_last_day') }} as period_first_day,
        earnings_to_date - coalesce(
            lag(earnings_to_date) over (partition by realm_id order by period_last_day), 0
        ) as equity_change
    from earnings
),

income as (
    select
        realm_id,
        period_first_day,
        sum(case when account_classification = 'Revenue' then amount else -amount end) as net_income
    from {{ ref('quickbooks__profit_and_loss') }}
    group by realm_id, period_first_day
)

select changes.realm_id, changes.period_first_day, changes.equity_change, coalesce(income.net_income, 0)
from changes
left join income
    on changes.realm_id = income.realm_id and changes.period_first_day = income.period_first_day
where changes.equity_change <> coalesce(income.net_income, 0)
