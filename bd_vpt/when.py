"""The one date grammar: every option and config key that names a time goes through here.

Forms (all UTC):
  2026-11-24                   a day
  2026-11-24T10:00:00Z         a moment (an offset such as +02:00 is converted to UTC;
                               no offset means UTC)
  2026-11                      a month
  2026-W48                     an ISO week (Monday to Sunday)
  today, yesterday             the current or previous UTC day
  now                          this moment
  7d, 4w, 3m                   that many days, weeks or months ago (as a moment)

A form that names a span (a day, month, week) starts at its first moment; as an end
(`--until`) it includes the whole span. A period (`baseline set --period`, `compare`) is one
span or FROM..TO. Invalid text is a VptError (exit 2) that says what was wrong and shows
examples, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bd_vpt.errors import VptError

EXAMPLES = "2026-11-24, 2026-11-24T10:00:00Z, 2026-11, 2026-W48, today, yesterday, 7d, 4w, 3m"
FORMS = (
    ("YYYY-MM-DD", "a UTC day, e.g. 2026-11-24"),
    ("YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]", "a moment, e.g. 2026-11-24T10:00:00Z (no offset: UTC)"),
    ("YYYY-MM", "a month, e.g. 2026-11"),
    ("YYYY-Www", "an ISO week, e.g. 2026-W48"),
    ("today, yesterday, now", "the current or previous UTC day; this moment"),
    ("Nd, Nw, Nm", "N days, weeks or months ago, e.g. 7d, 4w, 3m"),
    ("FROM..TO", "a period from one form to another (periods only), e.g. 2026-10..2026-11"),
)

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_MONTH = re.compile(r"(\d{4})-(\d{2})\Z")
_WEEK = re.compile(r"(\d{4})-W(\d{2})\Z", re.IGNORECASE)
_AGO = re.compile(r"(\d{1,5})([dwm])\Z")
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?\Z"
)


@dataclass(frozen=True)
class Span:
    """[start, end) in UTC."""

    start: datetime
    end: datetime


def _bad(text: str, what: str, why: str) -> VptError:
    return VptError(f"{what} {text!r}: {why}", hint=f"use one of: {EXAMPLES}")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _months_ago(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        raise OverflowError
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def span(text: str, *, what: str = "date", now: datetime | None = None) -> Span:
    """The span a form names (a moment is a span of zero length)."""
    value = text.strip()
    if not value:
        raise _bad(text, what, "empty")
    lower = value.lower()
    try:
        if lower in ("today", "yesterday"):
            start = _day_start(_now(now).date())
            if lower == "yesterday":
                start -= timedelta(days=1)
            return Span(start, start + timedelta(days=1))
        if lower == "now":
            moment = _now(now)
            return Span(moment, moment)
        if (m := _AGO.match(lower)) is not None:
            count, unit = int(m.group(1)), m.group(2)
            base = _now(now)
            if unit == "d":
                moment = base - timedelta(days=count)
            elif unit == "w":
                moment = base - timedelta(weeks=count)
            else:
                moment = _months_ago(base, count)
            return Span(moment, moment)
        if (m := _DAY.match(value)) is not None:
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                raise _bad(text, what, f"no such day ({exc})") from None
            start = _day_start(day)
            return Span(start, start + timedelta(days=1))
        if (m := _MONTH.match(value)) is not None:
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12 or year < 1:
                raise _bad(text, what, "no such month (months are 01..12)")
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            return Span(start, end)
        if (m := _WEEK.match(value)) is not None:
            try:
                monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            except ValueError:
                raise _bad(text, what, "no such ISO week (weeks are W01..W52 or W53)") from None
            start = _day_start(monday)
            return Span(start, start + timedelta(days=7))
        if _MOMENT.match(value):
            moment = _parse_moment(value, text, what)
            return Span(moment, moment)
    except OverflowError:
        raise _bad(text, what, "out of range (years 0001..9999 in UTC)") from None
    raise _bad(text, what, "not a date form bd-vpt knows")


def _parse_moment(value: str, text: str, what: str) -> datetime:
    iso = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    try:
        moment = datetime.fromisoformat(iso.replace(" ", "T", 1))
    except ValueError as exc:
        raise _bad(text, what, f"not a valid time ({exc})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)  # OverflowError near year 1 or 9999: caller reports it


def start(text: str, *, what: str = "--since", now: datetime | None = None) -> datetime:
    """The first moment a form names (for --since, --ts, --at)."""
    return span(text, what=what, now=now).start


def end(text: str, *, what: str = "--until", now: datetime | None = None) -> datetime:
    """The exclusive end of what a form names: a day, week or month includes all of it."""
    found = span(text, what=what, now=now)
    return found.end


def period(text: str, *, what: str = "period", now: datetime | None = None) -> Span:
    """A period: one form (a day, week, month) or FROM..TO (TO included whole)."""
    if ".." in text:
        first, _, last = text.partition("..")
        found = Span(start(first, what=what, now=now), end(last, what=what, now=now))
    else:
        found = span(text, what=what, now=now)
    if found.end <= found.start:
        raise VptError(
            f"{what} {text!r} is empty (it ends before it starts)",
            hint="give a day, week or month, or FROM..TO with TO after FROM, e.g. 2026-10..2026-11",
        )
    return found


def as_of(text: str | None, *, now: datetime | None = None) -> datetime:
    """The moment a judgement is made at: a moment as given, a day (week, month) at its
    last microsecond, or now."""
    if text is None:
        return _now(now)
    found = span(text, what="--at", now=now)
    return found.end - timedelta(microseconds=1) if found.end > found.start else found.start


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds (what records and canonical options carry)."""
    moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # years < 1000 too


def canonical_since(text: str | None, now: datetime | None = None) -> str | None:
    """--since as a canonical UTC moment (so caches never key on words like 'yesterday')."""
    return None if text is None else stamp(start(text, what="--since", now=now))


def canonical_until(text: str | None, now: datetime | None = None) -> str | None:
    """--until as a canonical exclusive UTC moment."""
    return None if text is None else stamp(end(text, what="--until", now=now))


def record_time(text: str | None, *, what: str = "--ts", now: datetime | None = None) -> str:
    """A record's ts: the given form's first moment (a warning when it lies in the
    future, which is allowed for planned backfills and tests); default now."""
    current = _now(now)
    if text is None:
        return stamp(current)
    moment = start(text, what=what, now=current)
    if moment > current + timedelta(minutes=5):
        from bd_vpt.errors import warn

        warn(f"{what} {text!r} is in the future ({stamp(moment)}); recorded as given")
    return stamp(moment)
