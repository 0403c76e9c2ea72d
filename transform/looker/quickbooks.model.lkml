# The finance model on the dbt marts (transform/models/marts). One explore per subject; every query is
# cached until the pipeline's load: target-looker-stage triggers the datagroup qbo_etl after each load
# (looker_datagroups: [quickbooks::qbo_etl]), which also rebuilds the PDTs persisted on it.
connection: "qbo_warehouse"

include: "/views/*.view.lkml"
include: "/dashboards/*.dashboard.lookml"

datagroup: qbo_etl {
  label: "QuickBooks load"
  description: "Triggered by target-looker-stage after each load; the SQL trigger is the fallback when it is not."
  sql_trigger: SELECT MAX(transaction_date) || '/' || COUNT(*) FROM marts.quickbooks__general_ledger ;;
  max_cache_age: "24 hours"
}

persist_with: qbo_etl

explore: general_ledger {
  label: "General ledger"
  description: "Every posting of every transaction, with each account's running balance."
}

explore: profit_and_loss {
  label: "Profit and loss"
  description: "Income and expense per month and account; net income = revenue - expenses."
  join: monthly_net_income {
    relationship: many_to_one
    sql_on: ${profit_and_loss.realm_id} = ${monthly_net_income.realm_id}
      AND ${profit_and_loss.period_first_day_raw} = ${monthly_net_income.period_first_day_raw} ;;
  }
}

explore: balance_sheet {
  label: "Balance sheet"
  description: "Account balances at every month end; assets = liabilities + equity."
}

explore: ar_aging {
  label: "A/R aging"
  description: "Open receivables at the aging date in QuickBooks' buckets."
}

explore: ap_aging {
  label: "A/P aging"
  description: "Open payables at the aging date in QuickBooks' buckets."
}

explore: cash_position {
  label: "Cash position"
  description: "Daily balance of every bank account."
}
