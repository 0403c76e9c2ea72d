# A PDT: revenue, expenses and net income per company and month, rebuilt when qbo_etl triggers.
view: monthly_net_income {
  derived_table: {
    sql:
      SELECT
        realm_id,
        period_first_day,
        SUM(CASE WHEN account_classification = 'Revenue' THEN amount ELSE 0 END) AS revenue,
        SUM(CASE WHEN account_classification = 'Expense' THEN amount ELSE 0 END) AS expenses,
        SUM(CASE WHEN account_classification = 'Revenue' THEN amount ELSE -amount END) AS net_income
      FROM marts.quickbooks__profit_and_loss
      GROUP BY realm_id, period_first_day ;;
    datagroup_trigger: qbo_etl
  }

  dimension: row_key {
    primary_key: yes
    hidden: yes
    sql: ${TABLE}.realm_id || '/' || CAST(${TABLE}.period_first_day AS VARCHAR) ;;
  }
  dimension: realm_id { label: "Company" type: string sql: ${TABLE}.realm_id ;; }
  dimension_group: period_first_day {
    label: "Period"
    type: time
    datatype: date
    timeframes: [raw, month, quarter, year]
    sql: ${TABLE}.period_first_day ;;
  }
  dimension: revenue { type: number value_format_name: usd sql: ${TABLE}.revenue ;; }
  dimension: expenses { type: number value_format_name: usd sql: ${TABLE}.expenses ;; }
  dimension: net_income { type: number value_format_name: usd sql: ${TABLE}.net_income ;; }

  measure: total_revenue { type: sum value_format_name: usd sql: ${revenue} ;; }
  measure: total_expenses { type: sum value_format_name: usd sql: ${expenses} ;; }
  measure: total_net_income { type: sum value_format_name: usd sql: ${net_income} ;; }
}
