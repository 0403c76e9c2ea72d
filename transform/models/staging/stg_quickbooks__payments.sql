select
    realm_id,
    "Id" as payment_id,
    cast("TxnDate" as date) as transaction_date,
    "CustomerRef" ->> 'value' as customer_id,
    cast("TotalAmt" as decimal(38, 9)) as total_amount,
    cast("UnappliedAmt" as decimal(38, 9)) as unapplied_amount,
    cast(last_updated_at as timestamp) as updated_at
from {{ source('quickbooks', 'payments') }}
where _sdc_deleted_at is null
