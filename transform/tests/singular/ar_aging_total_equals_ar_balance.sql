-- The A/R aging total equals the A/R accounts' balance at every aging date.
{{ aging_ties_to_ledger('quickbooks__ar_aging', 'Accounts Receivable', 1) }}
