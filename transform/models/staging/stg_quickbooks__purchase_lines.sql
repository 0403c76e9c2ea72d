-- purchase Line array unnested: account- and item-based expense lines.
{{ expense_lines('purchases') }}
