-- Invoice: A/R debited with the total; income credited per item line, discounts debited, sales tax credited.
{{ sales_double_entry(
    'stg_quickbooks__invoices', 'stg_quickbooks__invoice_lines', 'Invoice',
    'coalesce(documents.ar_account_id, defaults.ar_account_id)', 'debit'
) }}
