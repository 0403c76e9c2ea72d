-- CreditMemo: the mirror of an invoice, A/R credited with the total.
{{ sales_double_entry(
    'stg_quickbooks__credit_memos', 'stg_quickbooks__credit_memo_lines', 'CreditMemo',
    'coalesce(documents.ar_account_id, defaults.ar_account_id)', 'credit'
) }}
