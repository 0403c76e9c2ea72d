- dashboard: payables
  title: Payables
  description: Open A/P in QuickBooks' aging buckets, per company and vendor (refreshed after each load).
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: company
    title: Company
    type: field_filter
    model: quickbooks
    explore: ap_aging
    field: ap_aging.realm_id
  elements:
  - name: open_payables
    title: Open payables
    model: quickbooks
    explore: ap_aging
    type: single_value
    fields: [ap_aging.total_open_balance]
    listen: {company: ap_aging.realm_id}
    row: 0
    col: 0
    width: 8
    height: 4
  - name: overdue_payables
    title: Overdue
    model: quickbooks
    explore: ap_aging
    type: single_value
    fields: [ap_aging.overdue_balance]
    listen: {company: ap_aging.realm_id}
    row: 0
    col: 8
    width: 8
    height: 4
  - name: ap_by_bucket
    title: A/P aging by bucket
    model: quickbooks
    explore: ap_aging
    type: looker_column
    fields: [ap_aging.aging_bucket, ap_aging.total_open_balance]
    sorts: [ap_aging.aging_bucket]
    listen: {company: ap_aging.realm_id}
    row: 4
    col: 0
    width: 24
    height: 8
  - name: ap_by_customer
    title: Largest open balances by vendor
    model: quickbooks
    explore: ap_aging
    type: looker_grid
    fields: [ap_aging.name, ap_aging.aging_bucket, ap_aging.total_open_balance]
    pivots: [ap_aging.aging_bucket]
    sorts: [ap_aging.total_open_balance desc]
    limit: 50
    listen: {company: ap_aging.realm_id}
    row: 12
    col: 0
    width: 24
    height: 10
