-- vendor_credit Line array unnested: account- and item-based expense lines.
{{ expense_lines('vendor_credits') }}
