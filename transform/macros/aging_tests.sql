{#
  At every aging date, the aging total equals the balance of the accounts of `account_type` (A/R or A/P, in
  natural sign `sign`), for every company, also one with aging rows or postings on one side only.
#}
{% macro aging_ties_to_ledger(aging, account_type, sign) -%}
with as_of as (
    {{ as_of_dates() }}
),

ledger as (
    select as_of.as_of_date, ledger.realm_id, {{ sign }} * sum(ledger.amount) as ledger_balance
    from {{ ref('quickbooks__general_ledger') }} as ledger
    inner join as_of on ledger.transaction_date <= as_of.as_of_date
    where ledger.account_type = '{{ account_type }}'
    group by 1, 2
),

aging as (
    select as_of_date, realm_id, sum(open_balance) as aging_total
    from {{ ref(aging) }}
    group by 1, 2
)

select
    '{{ account_type }}' as account_type,
    coalesce(ledger.as_of_date, aging.as_of_date) as as_of_date,
    coalesce(ledger.realm_id, aging.realm_id) as realm_id,
    coalesce(ledger.ledger_balance, 0) as ledger_balance,
    coalesce(aging.aging_total, 0) as aging_total
from ledger
full outer join aging on ledger.realm_id = aging.realm_id and ledger.as_of_date = aging.as_of_date
where coalesce(ledger.ledger_balance, 0) <> coalesce(aging.aging_total, 0)
{%- endmacro %}
