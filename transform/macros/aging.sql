{# QuickBooks' aging buckets from days past due (as of the aging date). #}
{% macro aging_bucket(days_past_due) -%}
    case
        when {{ days_past_due }} <= 0 then 'Current'
        when {{ days_past_due }} <= 30 then '1 - 30'
        when {{ days_past_due }} <= 60 then '31 - 60'
        when {{ days_past_due }} <= 90 then '61 - 90'
        else '91 and over'
    end
{%- endmacro %}

{#
  Open items at each aging date, the way QuickBooks' aged reports show them: each charge (invoice, bill)
  less what payments dated on or before that date applied to it; each credit (credit memo, vendor credit) as a
  negative item less what was applied of it; each payment's unapplied part (its total less the charges it
  pays plus the credits it uses) as a negative item. Nothing dated after the aging date counts, so an aging at
  a past date is what QuickBooks showed that day. Charges age from their due date, credits and payments from
  their own date; days past due is 0 until the due date. One set of rows per date of as_of_dates().
#}
{% macro open_items(party, charges, charge_type, credits, credit_type, payments, payment_lines, payment_type) -%}
with as_of as (
    {{ as_of_dates() }}
),

charges as (
    select * from {{ ref(charges) }} where coalesce(transaction_status, '') <> 'Voided'
),

credits as (
    select * from {{ ref(credits) }} where coalesce(transaction_status, '') <> 'Voided'
),

payments as (
    select * from {{ ref(payments) }} where coalesce(transaction_status, '') <> 'Voided'
),

documents as (
    select realm_id, transaction_id, '{{ charge_type }}' as transaction_type from charges
    union all
    select realm_id, transaction_id, '{{ credit_type }}' as transaction_type from credits
),

{#- An application counts only while the document it pays exists: a payment of a deleted invoice is unapplied. #}
applications as (
    select
        as_of.as_of_date,
        payment_lines.realm_id,
        payment_lines.transaction_id as payment_id,
        payment_lines.linked_transaction_id,
        payment_lines.linked_transaction_type,
        payment_lines.amount
    from {{ ref(payment_lines) }} as payment_lines
    inner join payments
        on payment_lines.realm_id = payments.realm_id and payment_lines.transaction_id = payments.transaction_id
    inner join documents
        on payment_lines.realm_id = documents.realm_id
        and payment_lines.linked_transaction_id = documents.transaction_id
        and payment_lines.linked_transaction_type = documents.transaction_type
    inner join as_of on payments.transaction_date <= as_of.as_of_date
),

applied_to as (
    select as_of_date, realm_id, linked_transaction_id, linked_transaction_type, sum(amount) as applied_amount
    from applications
    group by 1, 2, 3, 4
),

applied_by as (
    select
        as_of_date,
        realm_id,
        payment_id,
        sum(case when linked_transaction_type = '{{ charge_type }}' then amount else -amount end) as applied_amount
    from applications
    group by 1, 2, 3
),

items as (
    select
        as_of.as_of_date,
        charges.realm_id,
        charges.{{ party }}_id,
        charges.transaction_id,
        '{{ charge_type }}' as transaction_type,
        charges.transaction_date,
        charges.due_date,
        charges.total_amount - coalesce(applied_to.applied_amount, 0) as open_balance
    from charges
    inner join as_of on charges.transaction_date <= as_of.as_of_date
    left join applied_to
        on as_of.as_of_date = applied_to.as_of_date
        and charges.realm_id = applied_to.realm_id
        and charges.transaction_id = applied_to.linked_transaction_id
        and applied_to.linked_transaction_type = '{{ charge_type }}'

    union all

    select
        as_of.as_of_date,
        credits.realm_id,
        credits.{{ party }}_id,
        credits.transaction_id,
        '{{ credit_type }}' as transaction_type,
        credits.transaction_date,
        credits.transaction_date as due_date,
        -(credits.total_amount - coalesce(applied_to.applied_amount, 0)) as open_balance
    from credits
    inner join as_of on credits.transaction_date <= as_of.as_of_date
    left join applied_to
        on as_of.as_of_date = applied_to.as_of_date
        and credits.realm_id = applied_to.realm_id
        and credits.transaction_id = applied_to.linked_transaction_id
        and applied_to.linked_transaction_type = '{{ credit_type }}'

    union all

    select
        as_of.as_of_date,
        payments.realm_id,
        payments.{{ party }}_id,
        payments.transaction_id,
        '{{ payment_type }}' as transaction_type,
        payments.transaction_date,
        payments.transaction_date as due_date,
        -(payments.total_amount - coalesce(applied_by.applied_amount, 0)) as open_balance
    from payments
    inner join as_of on payments.transaction_date <= as_of.as_of_date
    left join applied_by
        on as_of.as_of_date = applied_by.as_of_date
        and payments.realm_id = applied_by.realm_id
        and payments.transaction_id = applied_by.payment_id
)

select
    items.realm_id,
    items.as_of_date,
    items.{{ party }}_id,
    parties.{{ party }}_name as name,
    items.transaction_id,
    items.transaction_type,
    items.transaction_date,
    items.due_date,
    items.open_balance,
    greatest({{ days_between('items.due_date', 'items.as_of_date') }}, 0) as days_past_due,
    {{ aging_bucket(days_between('items.due_date', 'items.as_of_date')) }} as aging_bucket
from items
left join {{ ref('stg_quickbooks__' ~ party ~ 's') }} as parties
    on items.realm_id = parties.realm_id and items.{{ party }}_id = parties.{{ party }}_id
where items.open_balance <> 0
{%- endmacro %}
