-- RefundReceipt: the mirror of a sales receipt, the account the refund is paid from credited.
{{ sales_double_entry(
    'stg_quickbooks__refund_receipts', 'stg_quickbooks__refund_receipt_lines', 'RefundReceipt',
    'coalesce(documents.deposit_account_id, defaults.undeposited_funds_account_id)', 'credit'
) }}
