select
    realm_id,
    "Id" as account_id,
    "Name" as account_name,
    "FullyQualifiedName" as account_full_name,
    "AccountType" as account_type,
    "AccountSubType" as account_sub_type,
    "Classification" as classification,
    cast("CurrentBalance" as decimal(38, 9)) as current_balance,
    coalesce("Active", true) as is_active,
    cast(last_updated_at as timestamp) as updated_at
from {{ source('quickbooks', 'accounts') }}
where _sdc_deleted_at is null
