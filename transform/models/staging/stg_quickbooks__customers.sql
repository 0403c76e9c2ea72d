with customers as (
    {{ live_rows('customers') }}
)

select
    realm_id,
    "Id" as customer_id,
    "DisplayName" as customer_name,
    "CompanyName" as company_name,
    {{ money('"Balance"') }} as balance,
    coalesce("Active", true) as is_active,
    cast(last_updated_at as timestamp) as updated_at
from customers
