view: cash_position {
  sql_table_name: marts.quickbooks__cash_position ;;

  dimension: row_key {
    primary_key: yes
    hidden: yes
    sql: ${TABLE}.realm_id || '/' || CAST(${TABLE}.date AS VARCHAR) || '/' || ${TABLE}.account_id ;;
  }
  dimension: realm_id { label: "Company" type: string sql: ${TABLE}.realm_id ;; }
  dimension_group: balance {
    label: "Day"
    type: time
    datatype: date
    timeframes: [raw, date, week, month, quarter, year]
    sql: ${TABLE}.date ;;
  }
  dimension: account_id { type: string sql: ${TABLE}.account_id ;; }
  dimension: account_name { label: "Bank account" type: string sql: ${TABLE}.account_name ;; }
  dimension: balance { type: number value_format_name: usd sql: ${TABLE}.balance ;; }

  measure: total_balance {
    description: "Sum over the selected accounts; pick one day (balances are not additive over days)."
    type: sum
    value_format_name: usd
    sql: ${balance} ;;
  }
}
