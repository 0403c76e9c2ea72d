-- payment lines: one row per line and linked transaction (the documents it pays).
{{ linked_lines('payments') }}
