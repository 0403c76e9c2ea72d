-- Items with the accounts QuickBooks posts them to (income on sales, expense or inventory asset on purchases).
with items as (
    {{ live_rows('items') }}
)

select
    realm_id,
    "Id" as item_id,
    "Name" as item_name,
    "Type" as item_type,
    {{ ref_id('IncomeAccountRef') }} as income_account_id,
    {{ ref_id('ExpenseAccountRef') }} as expense_account_id,
    {{ ref_id('AssetAccountRef') }} as asset_account_id,
    coalesce("Active", true) as is_active,
    cast(last_updated_at as timestamp) as updated_at
from items
