-- Journal entry lines: each posts its amount as a Debit or a Credit to its account.
with journal_entries as (
    {{ live_rows('journal_entries') }}
)

select
    journal_entries.realm_id,
    journal_entries."Id" as transaction_id,
    coalesce({{ json_text('line.element', ['Id']) }}, 'n' || cast(line.ordinal as varchar)) as line_id,
    {{ json_text('line.element', ['Description']) }} as description,
    {{ json_money('line.element', ['Amount']) }} as amount,
    {{ json_text('line.element', ['JournalEntryLineDetail', 'PostingType']) }} as posting_type,
    {{ json_text('line.element', ['JournalEntryLineDetail', 'AccountRef', 'value']) }} as account_id,
    {{ json_text('line.element', ['JournalEntryLineDetail', 'Entity', 'EntityRef', 'value']) }} as entity_id,
    {{ json_text('line.element', ['JournalEntryLineDetail', 'Entity', 'Type']) }} as entity_type,
    {{ json_text('line.element', ['JournalEntryLineDetail', 'ClassRef', 'value']) }} as class_id
from journal_entries
{{ json_unnest('journal_entries."Line"', 'line') }}
