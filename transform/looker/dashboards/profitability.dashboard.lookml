- dashboard: profitability
  title: Profitability
  description: Revenue, expenses and net income per month, and the accounts behind them.
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: company
    title: Company
    type: field_filter
    model: quickbooks
    explore: profit_and_loss
    field: profit_and_loss.realm_id
  - name: period
    title: Period
    type: field_filter
    default_value: 12 months
    model: quickbooks
    explore: profit_and_loss
    field: profit_and_loss.period_first_day_month
  elements:
  - name: net_income_by_month
    title: Revenue, expenses and net income by month
    model: quickbooks
    explore: profit_and_loss
    type: looker_column
    fields: [profit_and_loss.period_first_day_month, profit_and_loss.revenue, profit_and_loss.expenses,
      profit_and_loss.net_income]
    sorts: [profit_and_loss.period_first_day_month]
    listen: {company: profit_and_loss.realm_id, period: profit_and_loss.period_first_day_month}
    row: 0
    col: 0
    width: 24
    height: 8
  - name: pnl_by_account
    title: P&L by account
    model: quickbooks
    explore: profit_and_loss
    type: looker_grid
    fields: [profit_and_loss.account_classification, profit_and_loss.account_name,
      profit_and_loss.period_first_day_month, profit_and_loss.revenue, profit_and_loss.expenses]
    pivots: [profit_and_loss.period_first_day_month]
    sorts: [profit_and_loss.account_classification desc, profit_and_loss.account_name]
    listen: {company: profit_and_loss.realm_id, period: profit_and_loss.period_first_day_month}
    row: 8
    col: 0
    width: 24
    height: 12
  - name: balance_sheet_at_month_end
    title: Balance sheet at month end
    model: quickbooks
    explore: balance_sheet
    type: looker_grid
    fields: [balance_sheet.account_classification, balance_sheet.account_name, balance_sheet.period_last_day_month,
      balance_sheet.total_balance]
    pivots: [balance_sheet.period_last_day_month]
    sorts: [balance_sheet.account_classification, balance_sheet.account_name]
    listen: {company: balance_sheet.realm_id}
    row: 20
    col: 0
    width: 24
    height: 12
