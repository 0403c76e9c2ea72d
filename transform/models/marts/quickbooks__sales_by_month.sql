-- Invoiced amount, open balance and invoice count per company and month (a first mart for the dashboards).
select
    realm_id,
    cast(date_trunc('month', transaction_date) as date) as month,
    count(*) as invoice_count,
    sum(total_amount) as invoiced_amount,
    sum(balance) as open_balance
from {{ ref('stg_quickbooks__invoices') }}
group by 1, 2
