-- Bill: A/P credited with the total, each expense line debited.
{{ expense_double_entry(
    live_transactions('stg_quickbooks__bills'), 'stg_quickbooks__bill_lines', 'Bill',
    'coalesce(documents.ap_account_id, defaults.ap_account_id)', "'credit'", 'documents.vendor_id'
) }}
