- dashboard: receivables
  title: Receivables
  description: Open A/R in QuickBooks' aging buckets, per company and customer (refreshed after each load).
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: company
    title: Company
    type: field_filter
    model: quickbooks
    explore: ar_aging
    field: ar_aging.realm_id
  elements:
  - name: open_receivables
    title: Open receivables
    model: quickbooks
    explore: ar_aging
    type: single_value
    fields: [ar_aging.total_open_balance]
    listen: {company: ar_aging.realm_id}
    row: 0
    col: 0
    width: 8
    height: 4
  - name: overdue_receivables
    title: Overdue
    model: quickbooks
    explore: ar_aging
    type: single_value
    fields: [ar_aging.overdue_balance]
    listen: {company: ar_aging.realm_id}
    row: 0
    col: 8
    width: 8
    height: 4
  - name: ar_by_bucket
    title: A/R aging by bucket
    model: quickbooks
    explore: ar_aging
    type: looker_column
    fields: [ar_aging.aging_bucket, ar_aging.total_open_balance]
    sorts: [ar_aging.aging_bucket]
    listen: {company: ar_aging.realm_id}
    row: 4
    col: 0
    width: 24
    height: 8
  - name: ar_by_customer
    title: Largest open balances by customer
    model: quickbooks
    explore: ar_aging
    type: looker_grid
    fields: [ar_aging.name, ar_aging.aging_bucket, ar_aging.total_open_balance]
    pivots: [ar_aging.aging_bucket]
    sorts: [ar_aging.total_open_balance desc]
    limit: 50
    listen: {company: ar_aging.realm_id}
    row: 12
    col: 0
    width: 24
    height: 10
