with transfers as (
    {{ live_rows('transfers') }}
)

select
    {{ transaction_header(total=false) }},
    {{ ref_id('FromAccountRef') }} as from_account_id,
    {{ ref_id('ToAccountRef') }} as to_account_id,
    {{ money('"Amount"') }} as amount
from transfers
