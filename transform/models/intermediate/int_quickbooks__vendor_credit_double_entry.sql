-- VendorCredit: A/P debited with the total, each expense line credited.
{{ expense_double_entry(
    live_transactions('stg_quickbooks__vendor_credits'), 'stg_quickbooks__vendor_credit_lines', 'VendorCredit',
    'coalesce(documents.ap_account_id, defaults.ap_account_id)', "'debit'", 'documents.vendor_id'
) }}
