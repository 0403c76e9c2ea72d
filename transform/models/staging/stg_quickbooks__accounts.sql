-- Chart of accounts, one row per account per company (inactive accounts kept: old transactions post to them).
with accounts as (
    {{ live_rows('accounts') }}
)

select
    realm_id,
    "Id" as account_id,
    "Name" as account_name,
    "FullyQualifiedName" as account_full_name,
    "AccountType" as account_type,
    "AccountSubType" as account_sub_type,
    "Classification" as classification,
    coalesce("SubAccount", false) as is_sub_account,
    {{ ref_id('ParentRef') }} as parent_account_id,
    {{ money('"CurrentBalance"') }} as current_balance,
    coalesce("Active", true) as is_active,
    cast(last_updated_at as timestamp) as updated_at
from accounts
