-- Each month's P&L net income (revenue - expenses) equals that month's change in the equity QuickBooks
-- carries for income: retained earnings + year-to-date net income on the balance sheet.
with earnings as (
    select realm_id, period_last_day, sum(balance) as earnings_to_date
    from {{ ref('quickbooks__balance_sheet') }}
    where account_id in ('retained_earnings', 'net_income')
    group by realm_id, period_last_day
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
