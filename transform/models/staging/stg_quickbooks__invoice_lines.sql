-- invoice Line array unnested: item lines (group lines' inner lines too), discounts, subtotals.
{{ sales_lines('invoices') }}
