-- The accounts QuickBooks posts to when a document names none: per company the lowest-Id account of each
-- type (A/R, A/P) or sub-type (Undeposited Funds, sales tax payable, discounts, retained earnings). A document's own ARAccountRef/APAccountRef always wins, so a company with two A/R
-- accounts posts each document once, to its own account.
with accounts as (
    select
        *,
        row_number() over (
            partition by realm_id, account_type order by length(account_id), account_id
        ) as type_rank,
        row_number() over (
            partition by realm_id, account_sub_type order by length(account_id), account_id
        ) as sub_type_rank
    from {{ ref('stg_quickbooks__accounts') }}
)

select
    realm_id,
    max(case when account_type = 'Accounts Receivable' and type_rank = 1 then account_id end) as ar_account_id,
    max(case when account_type = 'Accounts Payable' and type_rank = 1 then account_id end) as ap_account_id,
    max(
        case when account_sub_type = 'UndepositedFunds' and sub_type_rank = 1 then account_id end
    ) as undeposited_funds_account_id,
    max(
        case when account_sub_type = 'SalesTaxPayable' and sub_type_rank = 1 then account_id end
    ) as sales_tax_account_id,
    max(
        case when account_sub_type = 'DiscountsRefundsGiven' and sub_type_rank = 1 then account_id end
    ) as discount_account_id,
    max(
        case when account_sub_type = 'RetainedEarnings' and sub_type_rank = 1 then account_id end
    ) as retained_earnings_account_id
from accounts
group by realm_id
