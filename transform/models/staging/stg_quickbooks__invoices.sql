select
    realm_id,
    "Id" as invoice_id,
    "DocNumber" as doc_number,
    cast("TxnDate" as date) as transaction_date,
    cast("DueDate" as date) as due_date,
    "CustomerRef" ->> 'value' as customer_id,
    "CurrencyRef" ->> 'value' as currency_code,
    cast("TotalAmt" as decimal(38, 9)) as total_amount,
    cast("Balance" as decimal(38, 9)) as balance,
    cast(last_updated_at as timestamp) as updated_at
from {{ source('quickbooks', 'invoices') }}
where _sdc_deleted_at is null
