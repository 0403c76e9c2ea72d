select
    realm_id,
    "Id" as customer_id,
    "DisplayName" as customer_name,
    "CompanyName" as company_name,
    cast("Balance" as decimal(38, 9)) as balance,
    coalesce("Active", true) as is_active,
    cast(last_updated_at as timestamp) as updated_at
from {{ source('quickbooks', 'customers') }}
where _sdc_deleted_at is null
