-- Purchase (cash, check, credit card): the paying account credited, expense lines debited; a credit
-- (Credit = true, a refund from the vendor) the other way round.
{{ expense_double_entry(
    live_transactions('stg_quickbooks__purchases'), 'stg_quickbooks__purchase_lines', 'Purchase',
    'documents.payment_account_id', "case when documents.is_credit then 'debit' else 'credit' end",
    "case when documents.entity_type = 'Vendor' then documents.entity_id end"
) }}
