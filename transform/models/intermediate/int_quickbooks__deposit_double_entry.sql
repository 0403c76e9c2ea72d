-- Deposit: the bank account debited with the total; each line credits where the money comes from (a linked
-- payment or receipt: Undeposited Funds; else the line's account); cash back debits its account.
with deposits as (
    {{ live_transactions('stg_quickbooks__deposits') }}
),

lines as (
    select * from {{ ref('stg_quickbooks__deposit_lines') }}
),

defaults as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

postings as (
    select
        realm_id,
        transaction_id,
        'header' as transaction_line_id,
        transaction_date,
        deposit_account_id as account_id,
        'debit' as side,
        total_amount as amount,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as vendor_id
    from deposits

    union all

    select
        deposits.realm_id,
        deposits.transaction_id,
        lines.line_id as transaction_line_id,
        deposits.transaction_date,
        case
            when lines.linked_transaction_id is not null then defaults.undeposited_funds_account_id
            else lines.account_id
        end as account_id,
        'credit' as side,
        lines.amount,
        case when lower(lines.entity_type) = 'customer' then lines.entity_id end as customer_id,
        case when lower(lines.entity_type) = 'vendor' then lines.entity_id end as vendor_id
    from lines
    inner join deposits
        on lines.realm_id = deposits.realm_id and lines.transaction_id = deposits.transaction_id
    left join defaults on lines.realm_id = defaults.realm_id

    union all

    select
        realm_id,
        transaction_id,
        'cash_back' as transaction_line_id,
        transaction_date,
        cash_back_account_id as account_id,
        'debit' as side,
        cash_back_amount as amount,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as vendor_id
    from deposits
    where cash_back_amount <> 0
)

{{ select_postings('Deposit') }}
