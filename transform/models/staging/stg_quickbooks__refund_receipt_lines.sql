-- refund_receipt Line array unnested: item lines (group lines' inner lines too), discounts, subtotals.
{{ sales_lines('refund_receipts') }}
