view: general_ledger {
  sql_table_name: marts.quickbooks__general_ledger ;;

  dimension: posting_key {
    primary_key: yes
    hidden: yes
    sql: ${TABLE}.realm_id || '/' || ${TABLE}.transaction_type || '/' || ${TABLE}.transaction_id || '/' || ${TABLE}.transaction_line_id ;;
  }
  dimension: realm_id { label: "Company" type: string sql: ${TABLE}.realm_id ;; }
  dimension: transaction_id { type: string sql: ${TABLE}.transaction_id ;; }
  dimension: transaction_type { type: string sql: ${TABLE}.transaction_type ;; }
  dimension: transaction_line_id { type: string sql: ${TABLE}.transaction_line_id ;; }
  dimension_group: transaction {
    type: time
    datatype: date
    timeframes: [raw, date, week, month, quarter, year]
    sql: ${TABLE}.transaction_date ;;
  }
  dimension: account_id { type: string sql: ${TABLE}.account_id ;; }
  dimension: account_name { type: string sql: ${TABLE}.account_name ;; }
  dimension: account_type { type: string sql: ${TABLE}.account_type ;; }
  dimension: account_classification { type: string sql: ${TABLE}.account_classification ;; }
  dimension: customer_id { type: string sql: ${TABLE}.customer_id ;; }
  dimension: vendor_id { type: string sql: ${TABLE}.vendor_id ;; }
  dimension: debit_amount { type: number value_format_name: usd sql: ${TABLE}.debit_amount ;; }
  dimension: credit_amount { type: number value_format_name: usd sql: ${TABLE}.credit_amount ;; }
  dimension: amount { description: "Debit positive." type: number value_format_name: usd sql: ${TABLE}.amount ;; }
  dimension: running_balance {
    description: "The account's balance after this posting, in its natural sign."
    type: number
    value_format_name: usd
    sql: ${TABLE}.running_balance ;;
  }

  measure: postings { type: count }
  measure: total_debits { type: sum value_format_name: usd sql: ${debit_amount} ;; }
  measure: total_credits { type: sum value_format_name: usd sql: ${credit_amount} ;; }
  measure: net_amount { type: sum value_format_name: usd sql: ${amount} ;; }
}
