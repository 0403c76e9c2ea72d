-- JournalEntry: each line posts its amount on its PostingType side.
with journal_entries as (
    {{ live_transactions('stg_quickbooks__journal_entries') }}
),

lines as (
    select * from {{ ref('stg_quickbooks__journal_entry_lines') }}
),

postings as (
    select
        journal_entries.realm_id,
        journal_entries.transaction_id,
        lines.line_id as transaction_line_id,
        journal_entries.transaction_date,
        lines.account_id,
        lower(lines.posting_type) as side,
        lines.amount,
        case when lower(lines.entity_type) = 'customer' then lines.entity_id end as customer_id,
        case when lower(lines.entity_type) = 'vendor' then lines.entity_id end as vendor_id
    from lines
    inner join journal_entries
        on lines.realm_id = journal_entries.realm_id and lines.transaction_id = journal_entries.transaction_id
)

{{ select_postings('JournalEntry') }}
