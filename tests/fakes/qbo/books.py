"""The live books of one simulated company: what mutations through the API do to the other records.

Base documents settle each other in closed form (``links.py``). Once a payment or bill payment is created,
changed, voided or deleted it becomes *explicit*: its base links are forgotten and the lines of its current
body apply instead, and every invoice or bill whose applied amount changed gets a new version (Balance,
LinkedTxn, SyncToken + 1, LastUpdatedTime = now), as QuickBooks re-balances them.

Customer.Balance, Vendor.Balance and Account.CurrentBalance are sums of the company's postings
(``postings.py``): A/R by customer, A/P by vendor, balance-sheet accounts in their natural sign (income and
expense accounts report 0, as QuickBooks' API does). The sums are built on the first read of one of those
records (one pass over the documents) and then kept up to date per mutation. Those records keep their
version when a balance changes (QuickBooks does not bump them either).

A document created or changed with a ``Line`` but no ``TotalAmt`` gets its TotalAmt from its lines (and a
payment its UnappliedAmt), so what the API writes still balances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tests.fakes.qbo.base_ledger import ORDER, BaseLedger
from tests.fakes.qbo.basics import (
    ACC_AP,
    ACC_AR,
    ACC_TAX_PAYABLE,
    ACC_UNDEPOSITED,
    account_row,
    money,
)
from tests.fakes.qbo.links import SETTLEMENT_OF_PAYER, SETTLEMENT_OF_TARGET, Settlement
from tests.fakes.qbo.postings import POSTING_ENTITIES, Chart, Posting, cents, postings, sales_item_lines
from tests.fakes.qbo.render_payments import payment_lines
from tests.fakes.qbo.render_purchases import bill_total
from tests.fakes.qbo.render_sales import application, sales_total

if TYPE_CHECKING:
    from tests.fakes.qbo.store import CompanyStore

Contribution = tuple[int, int, str]  # target index, cents, LinkedTxn.TxnType seen from the target
_POSTING = frozenset(POSTING_ENTITIES)
_SALES = frozenset({"Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"})
_EXPENSES = frozenset({"Bill", "Purchase", "VendorCredit"})


class Snapshot:
    """A document's postings and applications just before a mutation."""

    def __init__(self, posted: list[Posting], applied: list[Contribution]) -> None:
        self.posted = posted
        self.applied = applied


class LiveBooks:
    """Applications and balances of one company's store; every method runs under the store lock."""

    def __init__(self, store: CompanyStore) -> None:
        self.store = store
        self.company = store.company
        self.suppressed: set[tuple[str, int]] = set()
        self.explicit: dict[tuple[str, int], list[Contribution]] = {}
        self.extra: dict[tuple[str, int], dict[tuple[str, int], tuple[int, str]]] = {}
        self.accounts: dict[str, int] | None = None
        self.customers: dict[str, int] = {}
        self.vendors: dict[str, int] = {}
        self._items: dict[str, dict[str, Any]] = {}
        ar = {str(ACC_AR + 1)}
        if self.company.second_ar is not None:
            ar.add(str(self.company.second_ar + 1))
        self.ar_accounts, self.ap_accounts = frozenset(ar), frozenset({str(ACC_AP + 1)})
        self.chart = Chart(
            ar=str(ACC_AR + 1),
            ap=str(ACC_AP + 1),
            undeposited=str(ACC_UNDEPOSITED + 1),
            sales_tax=str(ACC_TAX_PAYABLE + 1),
            item_income=lambda item: self._item_account(item, "IncomeAccountRef"),
            item_expense=lambda item: self._item_account(item, "ExpenseAccountRef"),
        )

    def _item_account(self, item_id: str, field: str) -> str:
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = self.store.tables["Item"].render(int(item_id) - 1)
        return str(item[field]["value"])

    # ---- rendering ---------------------------------------------------------------------------------
    def finish(self, entity: str, idx: int, body: dict[str, Any]) -> None:
        """Fill the fields that depend on other records into a rendered body (in place)."""
        table = self.store.tables[entity]
        changed = idx >= table.base_count or idx in table.overrides
        if changed:
            _normalise(entity, body, table.overrides.get(idx, {}))
        if entity in SETTLEMENT_OF_TARGET:
            self._rebalance(entity, idx, body, changed)
        elif entity in {"Customer", "Vendor", "Account"}:
            self._balances_into(entity, idx, body)

    def _base_application(self, rule: Settlement, idx: int) -> tuple[int, int] | None:
        if idx >= self.store.tables[rule.target].base_count:
            return None
        total = (
            sales_total(self.company, "Invoice", idx)
            if rule.target == "Invoice"
            else bill_total(self.company, idx)
        )
        paid = application(self.company, rule, idx, total)
        return None if paid is None or (rule.payer, paid[0]) in self.suppressed else paid

    def _rebalance(self, entity: str, idx: int, body: dict[str, Any], changed: bool) -> None:
        rule = SETTLEMENT_OF_TARGET[entity]
        extras = self.extra.get((entity, idx), {})
        if not changed and not extras and not self.suppressed:
            return
        base = self._base_application(rule, idx)
        links = list(body.get("LinkedTxn") or [])[:1] if base is not None else []
        applied = base[1] if base is not None else 0
        for (_, payer), (amount, link_type) in extras.items():
            applied += amount
            links.append({"TxnId": str(payer + 1), "TxnType": link_type})
        body["Balance"] = money(cents(body.get("TotalAmt", 0)) - applied)
        body["LinkedTxn"] = links

    def _balances_into(self, entity: str, idx: int, body: dict[str, Any]) -> None:
        self.ensure_ledger()
        key = str(idx + 1)
        if entity == "Customer":
            body["Balance"] = body["BalanceWithJobs"] = money(self.customers.get(key, 0))
        elif entity == "Vendor":
            body["Balance"] = money(-self.vendors.get(key, 0))
        else:
            net = (self.accounts or {}).get(key, 0)
            classification = account_row(self.company, idx)[3]
            natural = net if classification == "Asset" else -net
            shown = natural if classification in {"Asset", "Liability", "Equity"} else 0
            body["CurrentBalance"] = body["CurrentBalanceWithSubAccounts"] = money(shown)

    # ---- the ledger --------------------------------------------------------------------------------
    def ensure_ledger(self) -> None:
        """Sum the postings of every document once (later mutations keep the sums current)."""
        if self.accounts is not None:
            return
        self.accounts = {}
        base = BaseLedger(self.company, self.chart)
        for entity in ORDER:
            table = self.store.tables[entity]
            for idx in range(len(table.lut)):
                if not table.exists(idx):
                    continue
                if idx < table.base_count and idx not in table.overrides:
                    posted = base.postings(entity, idx)
                else:
                    posted = postings(entity, table.render(idx), self.chart)
                self._post(posted, 1, drop=False)

    def _post(self, posted: list[Posting], sign: int, drop: bool = True) -> None:
        """Add (sign 1) or take out (-1) postings; ``drop`` forgets the cached bodies whose balance changed
        (nothing is cached yet while the ledger is first built: such a body's render builds it)."""
        accounts = self.accounts
        if accounts is None:
            return
        cache = self.store.tables["Account"].cache
        for p in posted:
            accounts[p.account_id] = accounts.get(p.account_id, 0) + sign * p.amount
            if drop:
                cache.drop(("Account", int(p.account_id) - 1))
            if p.customer_id is not None and p.account_id in self.ar_accounts:
                self.customers[p.customer_id] = self.customers.get(p.customer_id, 0) + sign * p.amount
                if drop:
                    cache.drop(("Customer", int(p.customer_id) - 1))
            if p.vendor_id is not None and p.account_id in self.ap_accounts:
                self.vendors[p.vendor_id] = self.vendors.get(p.vendor_id, 0) + sign * p.amount
                if drop:
                    cache.drop(("Vendor", int(p.vendor_id) - 1))

    # ---- mutations ---------------------------------------------------------------------------------
    def before(self, entity: str, idx: int | None) -> Snapshot:
        """What the document posts and applies now (nothing for a record about to be created)."""
        table = self.store.tables[entity]
        if idx is None or not table.exists(idx):
            return Snapshot([], [])
        posted = (
            postings(entity, table.render(idx), self.chart)
            if entity in _POSTING and self.accounts is not None
            else []
        )
        return Snapshot(posted, self._applied(entity, idx))

    def _applied(self, entity: str, idx: int) -> list[Contribution]:
        rule = SETTLEMENT_OF_PAYER.get(entity)
        if rule is None:
            return []
        known = self.explicit.get((entity, idx))
        if known is not None:
            return known
        if idx >= self.store.tables[entity].base_count:
            return []
        link_type = _link_type(entity, self.store.tables[entity].render(idx))
        totals = (
            (lambda i: sales_total(self.company, "Invoice", i))
            if rule.target == "Invoice"
            else (lambda i: bill_total(self.company, i))
        )
        return [(t, c, link_type) for t, c in payment_lines(self.company, rule, idx, totals)]

    def after(self, entity: str, idx: int, before: Snapshot, now: int) -> list[tuple[str, int]]:
        """Apply a mutation's effects; returns the other records that got a new version."""
        if entity == "Item":
            self._items.clear()
        table = self.store.tables[entity]
        exists = table.exists(idx)
        if entity in _POSTING and self.accounts is not None:
            self._post(before.posted, -1)
            if exists:
                self._post(postings(entity, table.render(idx), self.chart), 1)
        rule = SETTLEMENT_OF_PAYER.get(entity)
        if rule is None:
            return []
        key = (entity, idx)
        for target, _, _ in before.applied:
            self.extra.get((rule.target, target), {}).pop(key, None)
        if idx < table.base_count:
            self.suppressed.add(key)
        now_applied = _contributions(entity, table.render(idx)) if exists else []
        self.explicit[key] = now_applied
        for target, amount, link_type in now_applied:
            slot = self.extra.setdefault((rule.target, target), {})
            previous = slot.get(key, (0, link_type))
            slot[key] = (previous[0] + amount, link_type)
        was = _by_target(before.applied)
        now_by = _by_target(now_applied)
        touched: list[tuple[str, int]] = []
        targets = self.store.tables[rule.target]
        for target in sorted(set(was) | set(now_by)):
            if was.get(target) != now_by.get(target) and targets.exists(target):
                targets.touch(target, now)
                touched.append((rule.target, target))
        return touched


def _by_target(applied: list[Contribution]) -> dict[int, int]:
    found: dict[int, int] = {}
    for target, amount, _ in applied:
        found[target] = found.get(target, 0) + amount
    return found


def _link_type(entity: str, body: Mapping[str, Any]) -> str:
    if entity == "Payment":
        return "Payment"
    return "BillPaymentCreditCard" if body.get("PayType") == "CreditCard" else "BillPaymentCheck"


def _contributions(entity: str, body: Mapping[str, Any]) -> list[Contribution]:
    """(target index, cents, link type) of each line of a payment or bill payment linking its target."""
    target_type = SETTLEMENT_OF_PAYER[entity].target
    link_type = _link_type(entity, body)
    found: list[Contribution] = []
    for line in body.get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") == target_type and str(link.get("TxnId", "")).isdigit():
                found.append((int(link["TxnId"]) - 1, cents(line.get("Amount", 0)), link_type))
                break
    return found


def _normalise(entity: str, body: dict[str, Any], override: Mapping[str, Any]) -> None:
    """Totals of a written document follow its lines unless the writer set them."""
    lines = body.get("Line") or []
    if "Line" in override and "TotalAmt" not in override:
        if entity in _SALES:
            items = sum(cents(line.get("Amount", 0)) for line in sales_item_lines(lines))
            discount = sum(
                cents(line.get("Amount", 0))
                for line in lines
                if line.get("DetailType") == "DiscountLineDetail"
            )
            tax = cents(body.get("TxnTaxDetail", {}).get("TotalTax", 0))
            for line in lines:
                if line.get("DetailType") == "SubTotalLineDetail":
                    line["Amount"] = money(items)
            body["TotalAmt"] = money(items - discount + tax)
        elif entity in _EXPENSES or entity in SETTLEMENT_OF_PAYER:
            body["TotalAmt"] = money(sum(cents(line.get("Amount", 0)) for line in lines))
        elif entity == "JournalEntry":
            debits = [
                ln for ln in lines if ln.get("JournalEntryLineDetail", {}).get("PostingType") == "Debit"
            ]
            body["TotalAmt"] = money(sum(cents(line.get("Amount", 0)) for line in debits))
    if entity == "Payment":
        applied = sum(cents(line.get("Amount", 0)) for line in lines)
        body["UnappliedAmt"] = money(cents(body.get("TotalAmt", 0)) - applied)
    if entity in {"CreditMemo", "VendorCredit"} and "Balance" not in override:
        body["Balance"] = body["TotalAmt"]
        if entity == "CreditMemo":
            body["RemainingCredit"] = body["TotalAmt"]


def voided_fields(entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a void writes: every amount zero, lines and links kept, "Voided" in the private note."""

    def zero_lines(lines: list[Any]) -> list[Any]:
        out = []
        for original in lines:
            line = dict(original)
            if "Amount" in line:
                line["Amount"] = money(0)
            group = line.get("GroupLineDetail")
            if group:
                line["GroupLineDetail"] = {**group, "Line": zero_lines(group.get("Line", []))}
            out.append(line)
        return out

    fields: dict[str, Any] = {"PrivateNote": "Voided"}
    if "Line" in body:
        fields["Line"] = zero_lines(list(body["Line"]))
    for name in ("TotalAmt", "Balance", "UnappliedAmt", "RemainingCredit", "Amount"):
        if name in body:
            fields[name] = money(0)
    if "TxnTaxDetail" in body:
        fields["TxnTaxDetail"] = {"TotalTax": money(0)}
    return fields
