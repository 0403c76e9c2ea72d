with journal_entries as (
    {{ live_rows('journal_entries') }}
)

select
    {{ transaction_header() }},
    coalesce("Adjustment", false) as is_adjustment
from journal_entries
