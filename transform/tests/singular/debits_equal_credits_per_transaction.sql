-- Every transaction's postings balance: total debits = total credits (to the cent, exactly).
select realm_id, transaction_type, transaction_id, sum(debit_amount) as debits, sum(credit_amount) as credits
from {{ ref('quickbooks__general_ledger') }}
group by realm_id, transaction_type, transaction_id
having sum(debit_amount) <> sum(credit_amount)
