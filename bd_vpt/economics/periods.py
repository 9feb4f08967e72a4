"""Windows and periods (UTC): [since, until) spans, and the day / ISO week / month a moment
falls in. The one place reports turn times into periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bd_vpt.ledger.records import parse_ts


@dataclass
class Window:
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def holds(self, ts: str) -> bool:
        if self.since is None and self.until is None:
            return True
        return self.contains(parse_ts(ts))

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until


def window(since: str | None, until: str | None) -> Window:
    """--since is inclusive; --until a date includes that whole day."""
    end = None
    if until:
        end = parse_ts(until)
        if len(until.strip()) == 10:
            end += timedelta(days=1)
    return Window(parse_ts(since) if since else None, end)


def utc_day(ts: str) -> str:
    if ts.endswith("Z"):
        return ts[:10]
    return parse_ts(ts).date().isoformat()  # strftime drops the zeros of a year < 1000


def period(day: str, every: str) -> str:
    if every == "day":
        return day
    if every == "month":
        return day[:7]
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def period_of(moment: datetime, every: str) -> str:
    return period(moment.astimezone(UTC).date().isoformat(), every)


def period_window(key: str, every: str) -> Window:
    """[start, end) of a day (2026-11-24), ISO week (2026-W48) or month (2026-11), UTC."""
    if every == "day":
        start = datetime.fromisoformat(key + "T00:00:00+00:00")
        return Window(start, start + timedelta(days=1))
    if every == "week":
        year, week = key.split("-W")
        start = datetime.fromisocalendar(int(year), int(week), 1).replace(tzinfo=UTC)
        return Window(start, start + timedelta(days=7))
    start = datetime.fromisoformat(key + "-01T00:00:00+00:00")
    month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Window(start, month_end)


FILL_LIMIT = 3700  # quiet periods are filled in over at most ~10 years of days


def periods_between(first: str, last: str, every: str, have: set[str] | None = None) -> list[str]:
    """Every period from first to last, both included: empty ones too. A span of more than
    FILL_LIMIT periods (a stray record dated in year 1, say) is not filled in: then only the
    periods in `have` (and first and last) are returned, so a report cannot run away."""
    keys = [first]
    while keys[-1] < last:
        if len(keys) > FILL_LIMIT:
            return sorted({first, last, *(have or ())})
        end = period_window(keys[-1], every).until
        assert end is not None
        keys.append(period_of(end, every))
    return keys
