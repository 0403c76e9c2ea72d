- dashboard: cash_position
  title: Cash position
  description: Daily balance of every bank account.
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: company
    title: Company
    type: field_filter
    model: quickbooks
    explore: cash_position
    field: cash_position.realm_id
  - name: day
    title: Day
    type: field_filter
    default_value: 90 days
    model: quickbooks
    explore: cash_position
    field: cash_position.balance_date
  elements:
  - name: cash_by_day
    title: Bank balances by day
    model: quickbooks
    explore: cash_position
    type: looker_line
    fields: [cash_position.balance_date, cash_position.account_name, cash_position.total_balance]
    pivots: [cash_position.account_name]
    sorts: [cash_position.balance_date]
    listen: {company: cash_position.realm_id, day: cash_position.balance_date}
    row: 0
    col: 0
    width: 24
    height: 10
  - name: cash_by_account
    title: Balance by bank account
    model: quickbooks
    explore: cash_position
    type: looker_grid
    fields: [cash_position.account_name, cash_position.total_balance]
    filters: {cash_position.balance_date: today}
    listen: {company: cash_position.realm_id}
    row: 10
    col: 0
    width: 24
    height: 6
