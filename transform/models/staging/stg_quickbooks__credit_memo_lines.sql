-- credit_memo Line array unnested: item lines (group lines' inner lines too), discounts, subtotals.
{{ sales_lines('credit_memos') }}
