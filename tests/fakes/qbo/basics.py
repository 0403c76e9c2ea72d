"""Shared pieces of record rendering: the company context, seeded randomness, money, names and references."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from tests.fakes.qbo.catalog import ENTITY_INDEX
from tests.fakes.qbo.timefmt import LocalClock

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")
_MASK64: Final = (1 << 64) - 1
USD: Final[dict[str, str]] = {"value": "USD", "name": "United States Dollar"}


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
    _salt: int = field(init=False, default=0)
    prices: dict[int, Decimal] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._salt = mix64(self.seed * 1_000_003 + int(self.realm_id))
        if not self.name:
            self.name = f"{COMPANY_WORDS[self._salt % len(COMPANY_WORDS)]} {COMPANY_SUFFIXES[self.index % 4]}"

    def key(self, entity: str, idx: int) -> int:
        """Deterministic 64-bit key of one record (depends on seed, realm, entity and index only)."""
        return mix64(self._salt ^ (ENTITY_INDEX[entity] << 40) ^ idx)

    def rng(self, entity: str, idx: int) -> random.Random:
        """A private random stream for one record."""
        return random.Random(self.key(entity, idx))

    def base_lut(self, entity: str, idx: int) -> int:
        """LastUpdatedTime (epoch seconds) of base record ``idx``; non-decreasing in ``idx``."""
        n = max(self.counts[entity], 1)
        span = self.history_end - self.history_start - 600
        return self.history_start + (idx * span) // n + ENTITY_INDEX[entity] * 7

    def base_sync(self, entity: str, idx: int) -> int:
        """SyncToken of a base record: most were never edited, some were edited a few times."""
        h = self.key(entity, idx)
        return 0 if h % 5 else 1 + (h >> 8) % 3

    def pick(self, rng: random.Random, entity: str) -> int:
        """A random existing base record index of a list entity."""
        return int(rng.random() * self.counts[entity])


def rint(rng: random.Random, low: int, high: int | None = None) -> int:
    """Like ``rint(rng, low, high)`` (or ``randrange(low)``) but several times faster."""
    if high is None:
        low, high = 0, low
    return low + int(rng.random() * (high - low))


def money(cents: int) -> Decimal:
    """Exact amount from integer cents."""
    return Decimal(cents).scaleb(-2)


def q2(amount: Decimal) -> Decimal:
    """Round to cents, half up, as QBO does."""
    return amount.quantize(CENT, rounding="ROUND_HALF_UP")


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
    ("California", Decimal("8.25")),
    ("Tucson", Decimal("6.1")),
    ("Out of state", Decimal("0")),
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
ACC_EQUITY, ACC_PRODUCT_INCOME, ACC_SERVICE_INCOME, ACC_DISCOUNTS, ACC_COGS = 11, 14, 15, 16, 17
EXPENSE_ACCOUNTS: Final = tuple(range(18, 28))


def account_name(idx: int) -> str:
    """Name of account ``idx`` (fixed chart first, then generated expense accounts)."""
    return ACCOUNTS[idx][0] if idx < len(ACCOUNTS) else f"Expense account {idx + 1}"


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


def item_price(company: Company, idx: int) -> Decimal:
    """Unit price of item ``idx`` (stable, so invoice lines agree with the item list)."""
    cached = company.prices.get(idx)
    if cached is None:
        cached = company.prices[idx] = money(500 + company.key("Item", idx) % 49_500)
    return cached


def item_is_service(idx: int) -> bool:
    """Items alternate between services and inventory/non-inventory goods."""
    return idx % 3 != 2


def address(rng: random.Random, addr_id: int) -> dict[str, Any]:
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
