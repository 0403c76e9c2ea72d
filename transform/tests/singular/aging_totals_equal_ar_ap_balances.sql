-- The A/R aging total equals the A/R accounts' balance at as_of_date, and the A/P aging total the A/P
-- accounts' balance (every company, also one with aging rows on one side only).
{%- set sides = [
    ('Accounts Receivable', 'quickbooks__ar_aging', 1),
    ('Accounts Payable', 'quickbooks__ap_aging', -1),
] %}
{% for account_type, aging, sign in sides %}
{%- if not loop.first %}
union all
{% endif -%}
select * from (
    with ledger as (
        select realm_id, {{ sign }} * sum(amount) as ledger_balance
        from {{ ref('quickbooks__general_ledger') }}
        where account_type = '{{ account_type }}' and transaction_date <= {{ as_of_date() }}
        group by realm_id
    ),

    aging as (
        select realm_id, sum(open_balance) as aging_total
        from {{ ref(aging) }}
        group by realm_id
    )

    select
        '{{ account_type }}' as account_type,
        coalesce(ledger.realm_id, aging.realm_id) as realm_id,
        coalesce(ledger.ledger_balance, 0) as ledger_balance,
        coalesce(aging.aging_total, 0) as aging_total
    from ledger
    full outer join aging on ledger.realm_id = aging.realm_id
    where coalesce(ledger.ledger_balance, 0) <> coalesce(aging.aging_total, 0)
) as {{ aging }}_mismatches
{% endfor %}
