view: balance_sheet {
  sql_table_name: marts.quickbooks__balance_sheet ;;

  dimension: row_key {
    primary_key: yes
    hidden: yes
    sql: ${TABLE}.realm_id || '/' || CAST(${TABLE}.period_last_day AS VARCHAR) || '/' || ${TABLE}.account_id ;;
  }
  dimension: realm_id { label: "Company" type: string sql: ${TABLE}.realm_id ;; }
  dimension_group: period_last_day {
    label: "Month end"
    type: time
    datatype: date
    timeframes: [raw, date, month, quarter, year]
    sql: ${TABLE}.period_last_day ;;
  }
  dimension: account_id { type: string sql: ${TABLE}.account_id ;; }
  dimension: account_name { type: string sql: ${TABLE}.account_name ;; }
  dimension: account_type { type: string sql: ${TABLE}.account_type ;; }
  dimension: account_classification { type: string sql: ${TABLE}.account_classification ;; }
  dimension: balance {
    description: "In the account's natural sign (assets debit, liabilities and equity credit)."
    type: number
    value_format_name: usd
    sql: ${TABLE}.balance ;;
  }

  measure: total_balance { type: sum value_format_name: usd sql: ${balance} ;; }
  measure: assets { type: sum value_format_name: usd sql: ${balance} ;; filters: [account_classification: "Asset"] }
  measure: liabilities { type: sum value_format_name: usd sql: ${balance} ;; filters: [account_classification: "Liability"] }
  measure: equity { type: sum value_format_name: usd sql: ${balance} ;; filters: [account_classification: "Equity"] }
}
