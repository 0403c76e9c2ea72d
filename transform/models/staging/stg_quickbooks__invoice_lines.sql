-- One row per invoice line, from the invoice's Line JSON array.
select
    invoices.realm_id,
    invoices."Id" as invoice_id,
    line.element ->> 'Id' as line_id,
    line.element ->> 'DetailType' as detail_type,
    line.element ->> 'Description' as description,
    {{ json_money("line.element ->> 'Amount'") }} as amount,
    line.element -> 'SalesItemLineDetail' -> 'ItemRef' ->> 'value' as item_id,
    {{ json_money("line.element -> 'SalesItemLineDetail' ->> 'Qty'") }} as quantity
from {{ source('quickbooks', 'invoices') }} as invoices
{{ json_array_elements('invoices', '"Line"') }}
where invoices._sdc_deleted_at is null
