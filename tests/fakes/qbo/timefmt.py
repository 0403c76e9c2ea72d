"""Time formatting the way QBO prints it: ISO 8601 in the company's fixed local offset."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

# Fixed offsets handed out to companies in order (realm 1 gets -07:00, realm 2 -05:00, ...).
COMPANY_OFFSETS_HOURS: tuple[int, ...] = (-7, -5, -8, -6, 1, -4, 10, 0)


def offset_for_company(index: int) -> timezone:
    """The fixed UTC offset of the company with 0-based ``index``."""
    hours = COMPANY_OFFSETS_HOURS[index % len(COMPANY_OFFSETS_HOURS)]
    return timezone(timedelta(hours=hours))


def offset_suffix(tz: timezone) -> str:
    """``-07:00`` style suffix of a fixed offset."""
    delta = tz.utcoffset(None)
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


class LocalClock:
    """Formats epoch seconds in one company's offset (second or millisecond precision)."""

    def __init__(self, tz: timezone) -> None:
        self.tz = tz
        self.offset_seconds = int(tz.utcoffset(None).total_seconds())
        self.suffix = offset_suffix(tz)
        self._days: dict[int, str] = {}  # local day number -> "YYYY-MM-DDT"

    def seconds(self, epoch: int) -> str:
        """``2026-09-19T13:16:17-07:00`` for integer epoch seconds."""
        day, rest = divmod(epoch + self.offset_seconds, 86_400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        return f"{prefix}{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}{self.suffix}"

    def millis(self, epoch: float) -> str:
        """``2026-11-25T03:14:15.926-07:00`` for float epoch seconds."""
        whole = int(epoch // 1)
        ms = int((epoch - whole) * 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole + self.offset_seconds))
        return f"{stamp}.{ms:03d}{self.suffix}"

    def date(self, epoch: int) -> str:
        """Local calendar date ``YYYY-MM-DD`` of an instant."""
        day = (epoch + self.offset_seconds) // 86_400
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        return prefix[:-1]


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO 8601 timestamp; a timestamp without offset is taken as UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
