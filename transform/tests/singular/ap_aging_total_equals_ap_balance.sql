-- The A/P aging total equals the A/P accounts' balance at every aging date.
{{ aging_ties_to_ledger('quickbooks__ap_aging', 'Accounts Payable', -1) }}
