"""Shared pieces of record rendering: the company context, seeded randomness, money, names and references."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import orjson

from tests.fakes.qbo.catalog import ENTITY_INDEX
from tests.fakes.qbo.timefmt import LocalClock

_MASK64: Final = (1 << 64) - 1
T = TypeVar("T")
USD: Final[dict[str, str]] = {"value": "USD", "name": "United States Dollar"}


_TABLE_BITS = 16
_TABLE_MASK = (1 << _TABLE_BITS) - 1
_SOURCE = random.Random(20_260_101)
_TABLE: Final[list[float]] = [_SOURCE.random() for _ in range(1 << _TABLE_BITS)]


class Stream:
    """A cheap deterministic random stream for one record: a walk with a key-derived start and odd stride
    through a fixed table of uniform floats. Seeding costs nothing, unlike ``random.Random`` (~5 us)."""

    __slots__ = ("pos", "stride")

    def __init__(self, key: int) -> None:
        self.pos = key & _TABLE_MASK
        self.stride = ((key >> _TABLE_BITS) & _TABLE_MASK) | 1

    def random(self) -> float:
        """The next float in [0, 1)."""
        self.pos = (self.pos + self.stride) & _TABLE_MASK
        return _TABLE[self.pos]

    def choice(self, options: Sequence[T]) -> T:
        return options[int(self.random() * len(options))]


def mix64(value: int) -> int:
    """SplitMix64 finaliser: a cheap, well-spread deterministic hash of an integer."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@dataclass
class Company:
    """Everything a renderer needs to know about one simulated company."""

    seed: int
    realm_id: str
    index: int
    counts: dict[str, int]
    clock: LocalClock
    history_start: int
    history_end: int
    name: str = ""
    # Books for dbt_quickbooks #104/#115: a second Accounts Receivable account in the chart and a
    # DepartmentRef on every transaction.
    multi_ar_departments: bool = False
    _salt: int = field(init=False, default=0)
    prices: dict[int, int] = field(init=False, default_factory=dict)
    memo: dict[tuple[str, int], int] = field(init=False, default_factory=dict)  # small per-company constants
    addresses: dict[int, dict[str, Any]] = field(init=False, default_factory=dict)
    # (item, qty, taxable, class) -> (description, cents, shared SalesItemLineDetail) of invoice lines
    line_parts: dict[tuple[int, int, bool, int], tuple[str, int, dict[str, Any]]] = field(
        init=False, default_factory=dict
    )
    # (entity, idx) -> (TotalAmt cents, counterparty ref) of base invoices and bills, for their payments
    totals: dict[tuple[str, int], tuple[int, dict[str, str]]] = field(init=False, default_factory=dict)

    def remember_total(self, entity: str, idx: int, total: int, party: dict[str, str]) -> None:
        """Note a base document's total so the payment that settles it need not re-render it."""
        if len(self.totals) > 200_000:
            self.totals.clear()
        self.totals[(entity, idx)] = (total, party)

    def __post_init__(self) -> None:
        self._salt = mix64(self.seed * 1_000_003 + int(self.realm_id))
        if self.multi_ar_departments:
            self.counts["Account"] += 1
        if not self.name:
            self.name = f"{COMPANY_WORDS[self._salt % len(COMPANY_WORDS)]} {COMPANY_SUFFIXES[self.index % 4]}"

    def key(self, entity: str, idx: int) -> int:
        """Deterministic 64-bit key of one record (depends on seed, realm, entity and index only)."""
        return mix64(self._salt ^ (ENTITY_INDEX[entity] << 40) ^ idx)

    def rng(self, entity: str, idx: int) -> Stream:
        """A private random stream for one record."""
        return Stream(self.key(entity, idx))

    def base_lut(self, entity: str, idx: int) -> int:
        """LastUpdatedTime (epoch seconds) of base record ``idx``; non-decreasing in ``idx``."""
        n = max(self.counts[entity], 1)
        span = self.history_end - self.history_start - 600
        return self.history_start + (idx * span) // n + ENTITY_INDEX[entity] * 7

    def base_sync(self, entity: str, idx: int) -> int:
        """SyncToken of a base record: most were never edited, some were edited a few times."""
        return sync_from_key(self.key(entity, idx))

    def base_version(self, entity: str, idx: int) -> tuple[int, int]:
        """(SyncToken, CreateTime) of base record ``idx``: an edited record was created hours before its
        last update."""
        key = self.key(entity, idx)
        sync = sync_from_key(key)
        lut = self.base_lut(entity, idx)
        return sync, (lut - sync * 3 * 3600 - (key >> 20) % 3600) if sync else lut

    @property
    def second_ar(self) -> int | None:
        """Index of the second Accounts Receivable account (the last account), if the company has one."""
        return self.counts["Account"] - 1 if self.multi_ar_departments else None

    @property
    def extra_expense_accounts(self) -> int:
        """Generated expense accounts after the fixed chart."""
        return max(self.counts["Account"] - len(ACCOUNTS) - self.multi_ar_departments, 0)

    def lines_rng(self, entity: str, idx: int) -> Stream:
        """The random stream of a document's lines alone, so its total is computable without its header."""
        return Stream(self.key(entity, idx) ^ 0x5A1E5)

    def department(self, entity: str, idx: int) -> dict[str, str] | None:
        """DepartmentRef of every transaction of a multi-department company (None otherwise)."""
        if not self.multi_ar_departments:
            return None
        return ref("Department", mix64(self.key(entity, idx) ^ 0xDE) % max(self.counts["Department"], 1))

    def hash_pick(self, entity: str, idx: int, target: str) -> int:
        """A base ``target`` list record for record ``idx`` of ``entity``, from its key alone (no stream)."""
        return mix64(self.key(entity, idx) ^ 0x9C) % max(self.counts[target], 1)

    def pick(self, rng: Stream, entity: str) -> int:
        """A random existing base record index of a list entity."""
        return int(rng.random() * self.counts[entity])


def rint(rng: Stream, low: int, high: int | None = None) -> int:
    """Like ``rint(rng, low, high)`` (or ``randrange(low)``) but several times faster."""
    if high is None:
        low, high = 0, low
    return low + int(rng.random() * (high - low))


def sync_from_key(key: int) -> int:
    """Base SyncToken from a record key: four in five records were never edited."""
    return 0 if key % 5 else 1 + (key >> 8) % 3


_MONEY: dict[int, orjson.Fragment] = {}


def money(cents: int) -> orjson.Fragment:
    """A JSON amount with exactly two decimals (``12.30``) from integer cents; amounts are never floats."""
    cached = _MONEY.get(cents)
    if cached is None:
        text = f"-{-cents // 100}.{-cents % 100:02d}" if cents < 0 else f"{cents // 100}.{cents % 100:02d}"
        cached = orjson.Fragment(text)
        if len(_MONEY) < 20_000:
            _MONEY[cents] = cached
    return cached


def share(cents: int, numerator: int, denominator: int) -> int:
    """``cents * numerator / denominator`` rounded half up to a cent (non-negative amounts)."""
    return (2 * cents * numerator + denominator) // (2 * denominator)


COMPANY_WORDS: Final = ("Craig's", "Sunrise", "Bluewater", "Redwood", "Summit", "Harbor", "Maple", "Granite")
COMPANY_SUFFIXES: Final = ("Design and Landscaping", "Bakery", "Consulting LLC", "Plumbing Co")
FIRST: Final = (
    "Amy", "Bill", "Carla", "Dylan", "Emma", "Frank", "Grace", "Hiro", "Ines", "Jamal",
    "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
)  # fmt: skip
LAST: Final = (
    "Bird", "Lucchini", "Cook", "Dukes", "Freeman", "Gevelber", "Jeni", "Kookies", "Lopez", "Mills",
    "Nguyen", "Okafor", "Pye", "Rondonuwu", "Shara", "Travis", "Weiskopf", "Zhang", "Ito", "Khan",
)  # fmt: skip
BUSINESS: Final = (
    "Books by Bessie", "Cool Cars", "Diego's Road Warrior", "Freeman Sporting", "Geeta's Garden",
    "Jeff's Jalopies", "Kate Whelan Co", "Mark Cho Designs", "Paulsen Medical", "Rago Travel",
    "Red Rock Diner", "Rondonuwu Fruit", "Shara Barnett", "Sonnenschein Family", "Sushi by Katsuyuki",
    "Travis Waldron", "Video Games by Dan", "Wedding Planning", "Weiskopf Consulting", "Amy's Bird Sanctuary",
)  # fmt: skip
VENDOR_WORDS: Final = (
    "Bob's Burger Joint", "Brosnahan Insurance", "Cal Telephone", "Chin's Gas and Oil", "Cigna Health",
    "Computers by Jenni", "Diego's Road Warrior", "EDD", "Ellis Equipment Rental", "Fidelity",
    "Hall Properties", "Hicks Hardware", "Lee Advertising", "Mahoney Mugs", "Met Life Dental",
    "National Eye Care", "Norton Lumber", "PG&E", "Robertson & Associates", "Tania's Nursery",
)  # fmt: skip
ITEM_WORDS: Final = (
    "Design", "Gardening", "Hours", "Installation", "Lighting", "Maintenance", "Pest Control",
    "Pump", "Refunds", "Rock Fountain", "Rocks", "Services", "Sod", "Sprinkler Heads", "Sprinkler Pipes",
    "Trimming", "Concrete", "Fountain Pump", "Soil", "Stone",
)  # fmt: skip
STREETS: Final = ("Main St", "Oak Ave", "Pine Rd", "Cedar Ln", "Elm St", "Lake Dr", "Hill Rd", "Park Ave")
CITIES: Final = (
    ("Bayshore", "CA", "USA"), ("Half Moon Bay", "CA", "USA"), ("Middlefield", "CA", "USA"),
    ("Austin", "TX", "USA"), ("Denver", "CO", "USA"), ("Toronto", "ON", "CAN"), ("Leeds", "", "GBR"),
)  # fmt: skip

CLASS_NAMES: Final = ("Retail", "Wholesale", "Online", "Consulting", "Events")
DEPARTMENT_NAMES: Final = ("Headquarters", "North Branch", "South Branch", "Warehouse")
TERMS: Final = (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60))
PAYMENT_METHODS: Final = (("Cash", "NON_CREDIT_CARD"), ("Check", "NON_CREDIT_CARD"), ("Visa", "CREDIT_CARD"),
                          ("MasterCard", "CREDIT_CARD"), ("American Express", "CREDIT_CARD"))  # fmt: skip
TAX_CODES: Final = (
    ("California", 825),  # rate in basis points
    ("Tucson", 610),
    ("Out of state", 0),
)

# Chart of accounts: (Name, AccountType, AccountSubType, Classification); index == Id - 1.
ACCOUNTS: Final = (
    ("Checking", "Bank", "Checking", "Asset"),
    ("Savings", "Bank", "Savings", "Asset"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
    ("Prepaid Expenses", "Other Current Asset", "PrepaidExpenses", "Asset"),
    ("Truck", "Fixed Asset", "Vehicles", "Asset"),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability"),
    ("Mastercard", "Credit Card", "CreditCard", "Liability"),
    ("Board of Equalization Payable", "Other Current Liability", "SalesTaxPayable", "Liability"),
    ("Notes Payable", "Long Term Liability", "NotesPayable", "Liability"),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity"),
    ("Retained Earnings", "Equity", "RetainedEarnings", "Equity"),
    ("Owner's Pay & Personal Expenses", "Equity", "PersonalExpense", "Equity"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    ("Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("Advertising", "Expense", "AdvertisingPromotional", "Expense"),
    ("Insurance", "Expense", "Insurance", "Expense"),
    ("Legal & Professional Fees", "Expense", "LegalProfessionalFees", "Expense"),
    ("Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense"),
    ("Rent or Lease", "Expense", "RentOrLeaseOfBuildings", "Expense"),
    ("Utilities", "Expense", "Utilities", "Expense"),
    ("Automobile", "Expense", "Auto", "Expense"),
    ("Meals and Entertainment", "Expense", "EntertainmentMeals", "Expense"),
    ("Repair & Maintenance", "Expense", "RepairMaintenance", "Expense"),
    ("Bank Charges", "Expense", "BankCharges", "Expense"),
    ("Interest Earned", "Other Income", "InterestEarned", "Revenue"),
    ("Miscellaneous", "Other Expense", "OtherMiscellaneousExpense", "Expense"),
)
ACC_CHECKING, ACC_SAVINGS, ACC_AR, ACC_UNDEPOSITED, ACC_INVENTORY = 0, 1, 2, 3, 4
ACC_AP, ACC_CARD, ACC_TAX_PAYABLE = 7, 8, 9
SECOND_AR: Final = ("Accounts Receivable - Wholesale", "Accounts Receivable", "AccountsReceivable", "Asset")
ACC_EQUITY, ACC_PRODUCT_INCOME, ACC_SERVICE_INCOME, ACC_DISCOUNTS, ACC_COGS = 11, 14, 15, 16, 17
EXPENSE_ACCOUNTS: Final = tuple(range(18, 28))


def account_name(idx: int) -> str:
    """Name of account ``idx`` (fixed chart first, then generated expense accounts)."""
    return ACCOUNTS[idx][0] if idx < len(ACCOUNTS) else f"Expense account {idx + 1}"


def account_row(company: Company, idx: int) -> tuple[str, str, str, str]:
    """(Name, AccountType, AccountSubType, Classification) of account ``idx`` in this company's chart."""
    if idx < len(ACCOUNTS):
        return ACCOUNTS[idx]
    if idx == company.second_ar:
        return SECOND_AR
    return account_name(idx), "Expense", "OtherMiscellaneousServiceCost", "Expense"


def account_ref(company: Company, idx: int) -> dict[str, str]:
    """Reference to account ``idx`` (the second A/R account is named per company, not in the shared cache)."""
    if idx == company.second_ar:
        return {"value": str(idx + 1), "name": SECOND_AR[0]}
    return ref("Account", idx)


def name_of(entity: str, idx: int) -> str:
    """Display name of a list record, computable without rendering it."""
    if entity == "Customer":
        if idx % 3 == 0:
            return f"{BUSINESS[idx // 3 % len(BUSINESS)]} {idx + 1}"
        return f"{FIRST[idx % len(FIRST)]} {LAST[idx // len(FIRST) % len(LAST)]} {idx + 1}"
    if entity == "Vendor":
        return f"{VENDOR_WORDS[idx % len(VENDOR_WORDS)]} {idx + 1}"
    if entity == "Employee":
        return f"{FIRST[(idx * 7) % len(FIRST)]} {LAST[(idx * 3) % len(LAST)]} {idx + 1}"
    if entity == "Item":
        return f"{ITEM_WORDS[idx % len(ITEM_WORDS)]} {idx + 1}"
    if entity == "Account":
        return account_name(idx)
    if entity == "Class":
        return CLASS_NAMES[idx % len(CLASS_NAMES)]
    if entity == "Department":
        return DEPARTMENT_NAMES[idx % len(DEPARTMENT_NAMES)]
    if entity == "Term":
        return TERMS[idx % len(TERMS)][0]
    if entity == "PaymentMethod":
        return PAYMENT_METHODS[idx % len(PAYMENT_METHODS)][0]
    if entity == "TaxCode":
        return TAX_CODES[idx % len(TAX_CODES)][0]
    raise KeyError(entity)


_REFS: dict[tuple[str, int], dict[str, str]] = {}


def ref(entity: str, idx: int) -> dict[str, str]:
    """``{"value": Id, "name": ...}`` reference to list record ``idx`` (shared, treat as read-only)."""
    key = (entity, idx)
    cached = _REFS.get(key)
    if cached is None:
        cached = _REFS[key] = {"value": str(idx + 1), "name": name_of(entity, idx)}
    return cached


def item_price(company: Company, idx: int) -> int:
    """Unit price of item ``idx`` in cents (stable, so invoice lines agree with the item list)."""
    cached = company.prices.get(idx)
    if cached is None:
        cached = company.prices[idx] = 500 + company.key("Item", idx) % 49_500
    return cached


def customer_address(company: Company, idx: int) -> dict[str, Any]:
    """Billing address of customer ``idx``; invoices and receipts copy it (shared, treat as read-only)."""
    cached = company.addresses.get(idx)
    if cached is None:
        if len(company.addresses) > 20_000:
            company.addresses.clear()
        cached = company.addresses[idx] = address(Stream(company.key("Customer", idx) ^ 0xADD), idx + 1)
    return cached


def item_is_service(idx: int) -> bool:
    """Items alternate between services and inventory/non-inventory goods."""
    return idx % 3 != 2


def address(rng: Stream, addr_id: int) -> dict[str, Any]:
    """A postal address with an ISO 3-letter Country."""
    city, region, country = CITIES[rint(rng, len(CITIES))]
    addr: dict[str, Any] = {
        "Id": str(addr_id),
        "Line1": f"{rint(rng, 1, 9999)} {STREETS[rint(rng, len(STREETS))]}",
        "City": city,
        "Country": country,
        "PostalCode": f"{rint(rng, 10000, 99999)}",
    }
    if region:
        addr["CountrySubDivisionCode"] = region
    return addr


def is_inactive(company: Company, entity: str, idx: int) -> bool:
    """Whether base list record ``idx`` starts inactive (about one in eight; reference rows never)."""
    if entity == "Account" and idx < len(ACCOUNTS):
        return False
    if entity == "Class":
        return idx == len(CLASS_NAMES) - 1
    return (
        entity in {"Customer", "Vendor", "Item", "Employee", "Account"} and company.key(entity, idx) % 8 == 3
    )
