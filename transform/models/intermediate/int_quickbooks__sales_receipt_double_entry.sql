-- SalesReceipt: the deposit account (Undeposited Funds by default) debited; income, discounts, tax as an invoice.
{{ sales_double_entry(
    'stg_quickbooks__sales_receipts', 'stg_quickbooks__sales_receipt_lines', 'SalesReceipt',
    'coalesce(documents.deposit_account_id, defaults.undeposited_funds_account_id)', 'debit'
) }}
