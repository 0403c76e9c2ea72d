-- Open receivables at each date of the dbt var as_of_date (default today): open invoices, and credit memos and
-- unapplied payments as negative items, each in QuickBooks' aging bucket.
{{ open_items(
    'customer',
    'stg_quickbooks__invoices', 'Invoice',
    'stg_quickbooks__credit_memos', 'CreditMemo',
    'stg_quickbooks__payments', 'stg_quickbooks__payment_lines', 'Payment'
) }}
