-- Open payables at each date of the dbt var as_of_date (default today): open bills, and vendor credits and
-- unapplied bill payments as negative items, each in QuickBooks' aging bucket.
{{ open_items(
    'vendor',
    'stg_quickbooks__bills', 'Bill',
    'stg_quickbooks__vendor_credits', 'VendorCredit',
    'stg_quickbooks__bill_payments', 'stg_quickbooks__bill_payment_lines', 'BillPayment'
) }}
