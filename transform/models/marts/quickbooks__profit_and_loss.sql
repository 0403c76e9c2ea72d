-- Profit and loss per company, month and income/expense account: revenue positive as income, expenses
-- positive as cost (net income = revenue - expenses).
with ledger as (
    select * from {{ ref('quickbooks__general_ledger') }}
    where account_classification in ('Revenue', 'Expense')
)

select
    realm_id,
    {{ month_first_day('transaction_date') }} as period_first_day,
    account_id,
    account_name,
    account_type,
    account_classification,
    sum(
        case when account_classification = 'Revenue' then credit_amount - debit_amount
        else debit_amount - credit_amount end
    ) as amount
from ledger
group by 1, 2, 3, 4, 5, 6
