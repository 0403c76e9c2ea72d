-- Assets = liabilities + equity (retained earnings and year-to-date net income included) at every month end.
select
    realm_id,
    period_last_day,
    sum(case when account_classification = 'Asset' then balance else 0 end) as assets,
    sum(case when account_classification <> 'Asset' then balance else 0 end) as liabilities_and_equity
from {{ ref('quickbooks__balance_sheet') }}
group by realm_id, period_last_day
having sum(case when account_classification = 'Asset' then balance else -balance end) <> 0
