"""Who settles whom among the base documents, in closed form: O(1) per record, nothing precomputed.

Books only balance if every payment knows the invoices it pays and every invoice knows what was paid on it,
yet records are rendered one at a time from their index. So the links are arithmetic on indexes:

- **Groups.** The invoices are cut into one contiguous group per payment slot (``group_of``); all invoices of
  a group bill the same customer. Payment ``j`` pays group ``j - lag``, where ``lag`` is the number of payment
  slots in ``PAYMENT_DELAY_DAYS`` (payments come about that long after their invoices; base timestamps grow
  with the index). Payments before the lag pay nothing (prepayments, left unapplied); the last groups are
  not paid yet. Within a group, "disputed" invoices (one in ten; bills one in six) are never paid, the
  last paid invoice is paid only in part one time in three, and at most ``MAX_GROUP`` invoices are paid.
  Bill payments and bills work the same way with vendors. This spreads open documents over every aging
  bucket (tuned so that a company of a few thousand documents has some in each near its anchor).
- **Deposits.** Deposit ``d`` takes the undeposited payments and sales receipts of a contiguous window of
  indexes that ends ``DEPOSIT_LAG_DAYS`` before it, so each is deposited at most once and after it was
  received.
- **Terms.** A customer's ``SalesTermRef`` and a vendor's ``TermRef`` are hashes of their index; documents
  take their counterparty's term, and their due date is the transaction date plus its ``DueDays``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tests.fakes.qbo.basics import Company, mix64

DAY: Final = 86_400
PAYMENT_DELAY_DAYS: Final = 18
BILL_PAYMENT_DELAY_DAYS: Final = 24
DEPOSIT_LAG_DAYS: Final = 3
MAX_GROUP: Final = 6
MAX_DEPOSITED: Final = 12  # per source entity and deposit
DISPUTED_ONE_IN: Final = {"Invoice": 10, "Bill": 6}


@dataclass(frozen=True)
class Settlement:
    """A payer entity that settles groups of a target entity billed to one party."""

    payer: str
    target: str
    party: str
    delay_days: int


CUSTOMER_PAYMENTS: Final = Settlement("Payment", "Invoice", "Customer", PAYMENT_DELAY_DAYS)
BILL_PAYMENTS: Final = Settlement("BillPayment", "Bill", "Vendor", BILL_PAYMENT_DELAY_DAYS)
SETTLEMENT_OF_TARGET: Final = {"Invoice": CUSTOMER_PAYMENTS, "Bill": BILL_PAYMENTS}
SETTLEMENT_OF_PAYER: Final = {"Payment": CUSTOMER_PAYMENTS, "BillPayment": BILL_PAYMENTS}


def slots(company: Company, entity: str, days: int) -> int:
    """How many base records of ``entity`` fall in ``days`` of history (at least 1 when days > 0)."""
    key = (entity, days)
    found = company.memo.get(key)
    if found is None:
        n = company.counts[entity]
        span = max(company.history_end - company.history_start - 600, 1)
        found = company.memo[key] = min(n, -(-days * DAY * n // span)) if days > 0 else 0
    return found


def group_of(company: Company, rule: Settlement, target_idx: int) -> int:
    """The group (payer slot) of base target ``target_idx``."""
    return target_idx * company.counts[rule.payer] // max(company.counts[rule.target], 1)


def group_members(company: Company, rule: Settlement, group: int) -> range:
    """Base targets of ``group``: ``[ceil(g * Nt / Np), ceil((g + 1) * Nt / Np))``."""
    payers, targets = max(company.counts[rule.payer], 1), company.counts[rule.target]
    return range(-(-group * targets // payers), min(-(-(group + 1) * targets // payers), targets))


def disputed(company: Company, target: str, idx: int) -> bool:
    """A target its counterparty never pays (stays open, ages): one invoice in ten, one bill in seven."""
    return mix64(company.key(target, idx) ^ 0xD15) % DISPUTED_ONE_IN[target] == 3


def paid_members(company: Company, rule: Settlement, group: int) -> list[int]:
    """The targets of ``group`` its payer pays, in index order."""
    members = group_members(company, rule, group)
    return [i for i in members[:MAX_GROUP] if not disputed(company, rule.target, i)]


def payer_of_group(company: Company, rule: Settlement, group: int) -> int | None:
    """Base payer that settles ``group`` (None: not paid yet)."""
    payer = group + slots(company, rule.payer, rule.delay_days)
    return payer if payer < company.counts[rule.payer] else None


def group_paid_by(company: Company, rule: Settlement, payer_idx: int) -> int | None:
    """The group base payer ``payer_idx`` settles (None: it pays nothing and stays unapplied)."""
    if payer_idx >= company.counts[rule.payer]:
        return None
    group = payer_idx - slots(company, rule.payer, rule.delay_days)
    return group if group >= 0 else None


def partial_share(company: Company, rule: Settlement, payer_idx: int) -> int | None:
    """Percent of its last target the payer pays (None: in full)."""
    h = mix64(company.key(rule.payer, payer_idx) ^ 0x9A)
    return 30 + (h >> 8) % 50 if h % 3 == 0 else None


def party_of_group(company: Company, rule: Settlement, group: int) -> int:
    """Customer (or vendor) index billed by every target of ``group``."""
    return mix64(company.key(rule.payer, group) ^ 0xC057) % max(company.counts[rule.party], 1)


def party_of_target(company: Company, rule: Settlement, target_idx: int) -> int:
    """Counterparty of a base target document (any index: created ones hash like base ones)."""
    if target_idx < company.counts[rule.target]:
        return party_of_group(company, rule, group_of(company, rule, target_idx))
    return mix64(company.key(rule.target, target_idx) ^ 0xC057) % max(company.counts[rule.party], 1)


def term_of(company: Company, party: str, idx: int) -> int:
    """Term index of a customer (SalesTermRef) or vendor (TermRef)."""
    return (mix64(company.key(party, idx) ^ 0x7E) >> 5) % max(company.counts["Term"], 1)


def deposited_to_bank(company: Company, entity: str, idx: int) -> bool:
    """Whether a payment (one in five) or sales receipt (one in three) goes straight to the bank account
    instead of Undeposited Funds."""
    return (mix64(company.key(entity, idx) ^ 0xBA) >> 11) % (5 if entity == "Payment" else 3) == 0


def deposit_window(company: Company, source: str, deposit_idx: int) -> range:
    """Base ``source`` indexes whose undeposited records deposit ``deposit_idx`` takes."""
    deposits, n = max(company.counts["Deposit"], 1), company.counts[source]
    lag = slots(company, source, DEPOSIT_LAG_DAYS)

    def low(d: int) -> int:
        return min(max(d * n // deposits - lag, 0), n)

    if not 0 < deposit_idx < deposits:
        return range(0)
    return range(low(deposit_idx - 1), low(deposit_idx))


def deposited(company: Company, source: str, deposit_idx: int) -> list[int]:
    """The undeposited base ``source`` records deposit ``deposit_idx`` links."""
    window = deposit_window(company, source, deposit_idx)
    return [i for i in window if not deposited_to_bank(company, source, i)][:MAX_DEPOSITED]
