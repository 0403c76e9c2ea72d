with vendors as (
    {{ live_rows('vendors') }}
)

select
    realm_id,
    "Id" as vendor_id,
    "DisplayName" as vendor_name,
    "CompanyName" as company_name,
    {{ money('"Balance"') }} as balance,
    coalesce("Active", true) as is_active,
    cast(last_updated_at as timestamp) as updated_at
from vendors
