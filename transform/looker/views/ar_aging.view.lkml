# A PDT on the dbt mart quickbooks__ar_aging (open receivables at the aging date), rebuilt when qbo_etl triggers.
view: ar_aging {
  derived_table: {
    sql: SELECT * FROM marts.quickbooks__ar_aging ;;
    datagroup_trigger: qbo_etl
  }

  dimension: item_key {
    primary_key: yes
    hidden: yes
    sql: ${TABLE}.realm_id || '/' || CAST(${TABLE}.as_of_date AS VARCHAR) || '/' || ${TABLE}.transaction_type || '/' || ${TABLE}.transaction_id ;;
  }
  dimension: realm_id { label: "Company" type: string sql: ${TABLE}.realm_id ;; }
  dimension: as_of_date { type: date sql: ${TABLE}.as_of_date ;; }
  dimension: customer_id { type: string sql: ${TABLE}.customer_id ;; }
  dimension: name { label: "Customer" type: string sql: ${TABLE}.name ;; }
  dimension: transaction_id { type: string sql: ${TABLE}.transaction_id ;; }
  dimension: transaction_type { type: string sql: ${TABLE}.transaction_type ;; }
  dimension: transaction_date { type: date sql: ${TABLE}.transaction_date ;; }
  dimension: due_date { type: date sql: ${TABLE}.due_date ;; }
  dimension: open_balance { type: number value_format_name: usd sql: ${TABLE}.open_balance ;; }
  dimension: days_past_due { type: number sql: ${TABLE}.days_past_due ;; }
  dimension: aging_bucket {
    type: string
    sql: ${TABLE}.aging_bucket ;;
    order_by_field: aging_bucket_order
  }
  dimension: aging_bucket_order {
    hidden: yes
    type: number
    sql: CASE ${TABLE}.aging_bucket WHEN 'Current' THEN 0 WHEN '1 - 30' THEN 1 WHEN '31 - 60' THEN 2
      WHEN '61 - 90' THEN 3 ELSE 4 END ;;
  }

  measure: open_items { type: count }
  measure: total_open_balance { type: sum value_format_name: usd sql: ${open_balance} ;; }
  measure: overdue_balance {
    type: sum
    value_format_name: usd
    sql: ${open_balance} ;;
    filters: [days_past_due: ">0"]
  }
}
