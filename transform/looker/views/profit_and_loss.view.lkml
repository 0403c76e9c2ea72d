view: profit_and_loss {
  sql_table_name: marts.quickbooks__profit_and_loss ;;

  dimension: row_key {
    primary_key: yes
    hidden: yes
    sql: ${TABLE}.realm_id || '/' || CAST(${TABLE}.period_first_day AS VARCHAR) || '/' || ${TABLE}.account_id ;;
  }
  dimension: realm_id { label: "Company" type: string sql: ${TABLE}.realm_id ;; }
  dimension_group: period_first_day {
    label: "Period"
    type: time
    datatype: date
    timeframes: [raw, month, quarter, year]
    sql: ${TABLE}.period_first_day ;;
  }
  dimension: account_id { type: string sql: ${TABLE}.account_id ;; }
  dimension: account_name { type: string sql: ${TABLE}.account_name ;; }
  dimension: account_type { type: string sql: ${TABLE}.account_type ;; }
  dimension: account_classification { type: string sql: ${TABLE}.account_classification ;; }
  dimension: amount {
    description: "Revenue positive as income, expenses positive as cost."
    type: number
    value_format_name: usd
    sql: ${TABLE}.amount ;;
  }

  measure: revenue {
    type: sum
    value_format_name: usd
    sql: ${amount} ;;
    filters: [account_classification: "Revenue"]
  }
  measure: expenses {
    type: sum
    value_format_name: usd
    sql: ${amount} ;;
    filters: [account_classification: "Expense"]
  }
  measure: net_income { type: number value_format_name: usd sql: ${revenue} - ${expenses} ;; }
}
