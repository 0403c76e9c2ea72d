-- Balance of every asset, liability and equity account at every month end, in the account's natural sign,
-- with QuickBooks' two income rows: the Retained Earnings account also carries the net income of the years
-- before the period's calendar year (a row `retained_earnings` when the chart has no such account), and a
-- `net_income` row the period's year to date. So assets = liabilities + equity at every month end.
-- Months run from a company's first transaction to the later of its last one and as_of_date.
with ledger as (
    select * from {{ ref('quickbooks__general_ledger') }}
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
    where classification in ('Asset', 'Liability', 'Equity')
),

defaults as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

company_months as (
    select
        realm_id,
        {{ month_first_day('min(transaction_date)') }} as first_month,
        {{ month_first_day('greatest(max(transaction_date), ' ~ as_of_date() ~ ')') }} as last_month
    from ledger
    group by realm_id
),

all_months as (
    select cast(months.series_value as date) as period_first_day
    from {{ date_series(
        '(select min(first_month) from company_months)', '(select max(last_month) from company_months)',
        'month', 'months'
    ) }}
),

periods as (
    select
        company_months.realm_id,
        {{ month_last_day('all_months.period_first_day') }} as period_last_day
    from company_months
    inner join all_months
        on all_months.period_first_day between company_months.first_month and company_months.last_month
),

monthly_changes as (
    select
        realm_id,
        account_id,
        {{ month_last_day('transaction_date') }} as period_last_day,
        sum(debit_amount - credit_amount) as net_debit
    from ledger
    group by 1, 2, 3
),

grid as (
    select periods.realm_id, periods.period_last_day, accounts.account_id
    from periods
    inner join accounts on periods.realm_id = accounts.realm_id
    left join defaults on accounts.realm_id = defaults.realm_id
    where accounts.account_id = defaults.retained_earnings_account_id or exists (
        select 1 from monthly_changes
        where monthly_changes.realm_id = accounts.realm_id and monthly_changes.account_id = accounts.account_id
    )
),

account_balances as (
    select
        grid.realm_id,
        grid.period_last_day,
        grid.account_id,
        accounts.account_name,
        accounts.account_type,
        accounts.classification as account_classification,
        sum(coalesce(monthly_changes.net_debit, 0)) over (
            partition by grid.realm_id, grid.account_id
            order by grid.period_last_day
            rows between unbounded preceding and current row
        ) as net_debit_to_date
    from grid
    inner join accounts on grid.realm_id = accounts.realm_id and grid.account_id = accounts.account_id
    left join monthly_changes
        on grid.realm_id = monthly_changes.realm_id
        and grid.account_id = monthly_changes.account_id
        and grid.period_last_day = monthly_changes.period_last_day
),

monthly_income as (
    select
        realm_id,
        {{ month_last_day('transaction_date') }} as period_last_day,
        sum(credit_amount - debit_amount) as net_income
    from ledger
    where account_classification in ('Revenue', 'Expense')
    group by 1, 2
),

income_to_date as (
    select
        periods.realm_id,
        periods.period_last_day,
        coalesce(monthly_income.net_income, 0) as net_income,
        sum(coalesce(monthly_income.net_income, 0)) over (
            partition by periods.realm_id
            order by periods.period_last_day
            rows between unbounded preceding and current row
        ) as net_income_to_date,
        sum(coalesce(monthly_income.net_income, 0)) over (
            partition by periods.realm_id, extract(year from periods.period_last_day)
            order by periods.period_last_day
            rows between unbounded preceding and current row
        ) as net_income_year_to_date
    from periods
    left join monthly_income
        on periods.realm_id = monthly_income.realm_id and periods.period_last_day = monthly_income.period_last_day
)

select
    account_balances.realm_id,
    account_balances.period_last_day,
    account_balances.account_id,
    account_balances.account_name,
    account_balances.account_type,
    account_balances.account_classification,
    case
        when account_balances.account_classification = 'Asset' then account_balances.net_debit_to_date
        else -account_balances.net_debit_to_date
    end
    + case
        when account_balances.account_id = defaults.retained_earnings_account_id
            then income_to_date.net_income_to_date - income_to_date.net_income_year_to_date
        else 0
    end as balance
from account_balances
left join defaults on account_balances.realm_id = defaults.realm_id
left join income_to_date
    on account_balances.realm_id = income_to_date.realm_id
    and account_balances.period_last_day = income_to_date.period_last_day

union all

select
    income_to_date.realm_id,
    income_to_date.period_last_day,
    'retained_earnings' as account_id,
    'Retained Earnings' as account_name,
    'Equity' as account_type,
    'Equity' as account_classification,
    income_to_date.net_income_to_date - income_to_date.net_income_year_to_date as balance
from income_to_date
left join defaults on income_to_date.realm_id = defaults.realm_id
where defaults.retained_earnings_account_id is null

union all

select
    realm_id,
    period_last_day,
    'net_income' as account_id,
    'Net Income' as account_name,
    'Equity' as account_type,
    'Equity' as account_classification,
    net_income_year_to_date as balance
from income_to_date
