"""Digest schedules: parsing `/digest schedule ...`, and slots as a pure function of "now".

The clock sweep (bot/) asks :func:`latest_due_slot` every 30 s and keeps exactly-once in its own
ledger keyed by :attr:`Slot.name`. Everything here is deterministic and free of I/O so tests can
drive any "now" they like (§4 "Clock and exactly-once digests").

Rules worth knowing:

* A slot is named by the channel's *local* date and the *scheduled* wall time
  (``"2026-03-08T02:30"``), whatever instant it actually runs at, so a ledger keyed by name sees
  each local day once.
* A scheduled time that does not exist that day (spring forward) runs at the first valid minute
  after it: 02:30 on 8 Mar 2026 in America/New_York runs at 03:00 EDT.
* A scheduled time that happens twice (fall back) runs once, at its first occurrence (fold=0).
* Only slots at or after ``changed_at`` count, so a new or moved schedule never posts at once, and
  slots missed during downtime fold into the latest due one.
* :func:`period_start` is the run instant of the *previous* slot of the same schedule: 7 days back
  for weekly, 1 day for daily, and Friday's slot for a Monday run of ``daily ... weekdays`` (the
  weekend's shares land in Monday's digest). Measured on instants, so DST weeks are 167/169 hours.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from digests.errors import InputError

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_ALIASES: dict[str, int] = {}
for _i, _name in enumerate(WEEKDAY_NAMES):
    _low = _name.lower()
    for _alias in (_low[:3], _low, _low + "s"):
        _DAY_ALIASES[_alias] = _i
_DAY_ALIASES.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})

EXAMPLES = {
    "weekly": "`/digest schedule weekly mon 09:00 America/New_York`",
    "daily": "`/digest schedule daily 08:30 Europe/Brussels weekdays topics:export_controls`",
}
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?(am|pm)?$")
# How far to look for a slot: a weekly slot always lies within 7 local days of any instant;
# one extra day covers a slot pushed past midnight by a DST gap.
_SCAN_DAYS = 9


@dataclass(frozen=True)
class Schedule:
    """A channel's digest schedule as stored (see :meth:`to_dict`)."""

    kind: str  # "weekly" | "daily"
    time: str  # "HH:MM", local wall time in ``tz``
    tz: str  # IANA name
    weekday: int | None = None  # 0 = Monday; weekly only
    weekdays_only: bool = False  # daily only: Monday to Friday
    topics: tuple[str, ...] = ()  # empty = all topics
    empty: str = "note"  # "note" | "skip"
    changed_at: float = 0.0  # Unix seconds of the last change

    def __post_init__(self) -> None:
        # A malformed record would otherwise never run, silently; fail where it is built.
        if self.kind not in ("weekly", "daily"):
            raise ValueError(f"schedule kind must be weekly or daily, not {self.kind!r}")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.time):
            raise ValueError(f"schedule time must be HH:MM, not {self.time!r}")
        if self.kind == "weekly" and self.weekday not in range(7):
            raise ValueError(f"weekly schedules need a weekday 0..6, not {self.weekday!r}")
        if self.empty not in ("note", "skip"):
            raise ValueError(f"empty must be note or skip, not {self.empty!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the store."""
        return {
            "kind": self.kind,
            "time": self.time,
            "tz": self.tz,
            "weekday": self.weekday,
            "weekdays_only": self.weekdays_only,
            "topics": list(self.topics),
            "empty": self.empty,
            "changed_at": self.changed_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """Inverse of :meth:`to_dict`; tolerant of missing optional keys from older records."""
        weekday = data.get("weekday")
        return cls(
            kind=str(data["kind"]),
            time=str(data["time"]),
            tz=str(data["tz"]),
            weekday=None if weekday is None else int(weekday),
            weekdays_only=bool(data.get("weekdays_only", False)),
            topics=tuple(data.get("topics") or ()),
            empty=str(data.get("empty", "note")),
            changed_at=float(data.get("changed_at", 0.0)),
        )


@dataclass(frozen=True)
class Slot:
    """One occurrence of a schedule: ``name`` is the local date and scheduled time (the ledger
    key); ``at`` is the Unix instant it actually runs at."""

    name: str
    at: float


# ---------------------------------------------------------------------------------------------
# Parsing


def _bad(message: str, kind: str = "weekly") -> InputError:
    example = EXAMPLES.get(kind, EXAMPLES["weekly"])
    return InputError("bad_schedule", f"{message} For example: {example}")


@lru_cache(maxsize=1)
def _zone_names_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _zone(name: str) -> ZoneInfo | None:
    """Resolve an IANA name, forgiving letter case ("america/new_york")."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return _zone_cached(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    exact = _zone_names_by_lower().get(name.lower())
    return _zone_cached(exact) if exact else None


@lru_cache(maxsize=512)
def _zone_cached(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _parse_time(token: str) -> str | None:
    match = _TIME_RE.match(token.lower())
    if not match or (match.group(2) is None and match.group(3) is None):
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_schedule(
    args: str, default_tz: str, known_topics: Collection[str], now: float
) -> Schedule:
    """Parse the words after ``/digest schedule``; raise ``InputError("bad_schedule", ...)``.

    Options after the kind may come in any order, so a user who writes the timezone last is not
    punished; a missing timezone falls back to ``default_tz`` (the invoking user's), then UTC.
    """
    text = (args or "").strip()
    text = re.sub(r"(?i)\b(topics?|empty):\s+", lambda m: m.group(1).lower() + ":", text)
    text = re.sub(r"\s*,\s*", ",", text)
    text = re.sub(r"(?i)(\d)\s+(am|pm)\b", r"\1\2", text)
    tokens = text.split()
    if tokens and tokens[0].lower() == "schedule":
        tokens = tokens[1:]
    if not tokens or tokens[0].lower() not in ("weekly", "daily"):
        got = f"“{tokens[0]}” is not a schedule kind." if tokens else "Say how often."
        raise _bad(f"{got} Use `weekly <day> <HH:MM>` or `daily <HH:MM>`.")
    kind = tokens[0].lower()

    def bad(message: str) -> InputError:
        return _bad(message, kind)

    known = {t.lower() for t in known_topics}
    hhmm: str | None = None
    weekday: int | None = None
    tz_name: str | None = None
    weekdays_only = False
    topics: tuple[str, ...] | None = None
    empty: str | None = None

    for token in tokens[1:]:
        low = token.lower()
        if low.startswith(("topics:", "topic:")):
            if topics is not None:
                raise bad("Give `topics:` only once, with ids separated by commas.")
            topics = _parse_topics(low.split(":", 1)[1], known, kind)
        elif low.startswith("empty:"):
            value = low.split(":", 1)[1]
            if value not in ("note", "skip") or empty is not None:
                raise bad(
                    "`empty:` takes `note` (post a short 'nothing shared' note) or `skip` "
                    "(post nothing), once."
                )
            empty = value
        elif (parsed := _parse_time(low)) is not None:
            if hhmm is not None:
                raise bad(f"Give one time only (got {hhmm} and {token}).")
            hhmm = parsed
        elif low in _DAY_ALIASES:
            if kind != "weekly":
                raise bad(
                    f"“{token}” is a day, but daily schedules run every day "
                    "(add `weekdays` for Monday to Friday)."
                )
            if weekday is not None:
                raise bad("Give one day only; for several days use `daily ... weekdays`.")
            weekday = _DAY_ALIASES[low]
        elif low in ("weekdays", "weekday", "weekdays-only", "workdays"):
            if kind != "daily":
                raise bad("`weekdays` applies to daily schedules only.")
            weekdays_only = True
        elif "/" in token or low in ("utc", "gmt") or _zone(token) is not None:
            zone = _zone(token) if ("/" in token or low in ("utc", "gmt")) else None
            if zone is None:
                # Bare legacy names such as EST or CET exist in tzdata but ignore the DST rules
                # people mean by them, so ask for a region/city name instead.
                raise bad(
                    f"“{token}” is not a timezone I can use: give an IANA name such as "
                    "`America/New_York`, `Europe/Brussels` or `UTC`."
                )
            if tz_name is not None:
                raise bad(f"Give one timezone only (got {tz_name} and {token}).")
            tz_name = zone.key
        elif ":" in token or token[:1].isdigit():
            raise bad(f"“{token}” is not a time: use 24-hour HH:MM such as `09:00` or `17:30`.")
        elif kind == "weekly" and weekday is None and token.isalpha():
            raise bad(f"“{token}” is not a day: use mon, tue, wed, thu, fri, sat or sun.")
        else:
            raise bad(f"I didn't understand “{token}”.")

    if kind == "weekly" and weekday is None:
        raise bad("Weekly schedules need a day (mon, tue, wed, thu, fri, sat or sun).")
    if hhmm is None:
        raise bad("Say when, as 24-hour HH:MM (e.g. `09:00`).")
    if tz_name is None:
        zone = _zone(default_tz or "")
        tz_name = zone.key if zone is not None else "UTC"
    return Schedule(
        kind=kind,
        time=hhmm,
        tz=tz_name,
        weekday=weekday,
        weekdays_only=weekdays_only,
        topics=topics or (),
        empty=empty or "note",
        changed_at=float(now),
    )


def _parse_topics(value: str, known: set[str], kind: str) -> tuple[str, ...]:
    ids = [t.strip() for t in value.split(",") if t.strip()]
    if not ids:
        raise _bad("`topics:` needs at least one topic id, e.g. `topics:export_controls`.", kind)
    if ids == ["all"]:
        return ()
    unknown = [t for t in ids if t not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "(none defined)"
        raise _bad(f"Unknown topic “{unknown[0]}”; known topics: {listing}.", kind)
    return tuple(dict.fromkeys(ids))


# ---------------------------------------------------------------------------------------------
# Slots


def _runs_on(schedule: Schedule, day: date) -> bool:
    if schedule.kind == "weekly":
        return day.weekday() == schedule.weekday
    return not (schedule.weekdays_only and day.weekday() >= 5)


@lru_cache(maxsize=4096)
def resolve_local(naive: datetime, tz: tzinfo) -> datetime:
    """The aware instant a local wall time means: fold=0 when it happens twice, and the first
    valid minute after it when a DST gap skips it. Cached: the sweep asks the same few every
    30 seconds."""
    candidate = naive
    for _ in range(24 * 60):  # gaps are an hour or less in practice; the bound is a safety net
        aware = candidate.replace(tzinfo=tz, fold=0)
        back = aware.astimezone(UTC).astimezone(tz)
        if back.replace(tzinfo=None) == candidate:
            return aware
        candidate = (candidate + timedelta(minutes=1)).replace(second=0, microsecond=0)
    raise ValueError(f"no valid local time after {naive} in {tz}")  # pragma: no cover


def _slot_for(schedule: Schedule, day: date, tz: tzinfo) -> Slot:
    hour, minute = (int(p) for p in schedule.time.split(":"))
    local = resolve_local(datetime.combine(day, time(hour, minute)), tz)
    return Slot(name=f"{day.isoformat()}T{schedule.time}", at=local.timestamp())


def _local_date(now: float, tz: tzinfo) -> date:
    return datetime.fromtimestamp(now, tz).date()


def latest_due_slot(schedule: Schedule, now: float) -> Slot | None:
    """The latest slot with ``changed_at <= at <= now``, or None.

    Steps back from now's local date (at most 9 days), so the cost does not grow with the time
    since the last change; missed slots fold into this one because only the latest is returned.
    """
    tz = _zone_cached(schedule.tz)
    today = _local_date(now, tz)
    for back in range(_SCAN_DAYS):
        day = today - timedelta(days=back)
        if not _runs_on(schedule, day):
            continue
        slot = _slot_for(schedule, day, tz)
        if slot.at <= now:
            return slot if slot.at >= schedule.changed_at else None
    return None


def next_slot(schedule: Schedule, now: float) -> Slot:
    """The first slot that runs strictly after ``now`` (and not before the last change)."""
    tz = _zone_cached(schedule.tz)
    start = max(now, schedule.changed_at)
    first = _local_date(start, tz) - timedelta(days=1)
    for ahead in range(_SCAN_DAYS + 1):
        day = first + timedelta(days=ahead)
        if _runs_on(schedule, day):
            slot = _slot_for(schedule, day, tz)
            if slot.at > now and slot.at >= schedule.changed_at:
                return slot
    raise ValueError(f"schedule never runs: {schedule}")  # pragma: no cover


def previous_slot(schedule: Schedule, slot: Slot) -> Slot:
    """The slot of the same schedule just before ``slot`` (ignoring ``changed_at``)."""
    tz = _zone_cached(schedule.tz)
    day = date.fromisoformat(slot.name.split("T", 1)[0])
    for back in range(1, _SCAN_DAYS):
        earlier = day - timedelta(days=back)
        if _runs_on(schedule, earlier):
            return _slot_for(schedule, earlier, tz)
    raise ValueError(f"schedule never runs: {schedule}")  # pragma: no cover


def period_start(schedule: Schedule, slot: Slot) -> float:
    """Start of the period a slot's digest covers: the previous slot's run instant.

    Weekly: one week back; daily: one day; ``daily ... weekdays``: Monday reaches back to Friday's
    slot, so weekend shares are not lost. The caller still clips to the channel's last-digest mark.
    """
    return previous_slot(schedule, slot).at


def describe(schedule: Schedule, now: float) -> str:
    """One line to echo back to the channel, e.g.
    "Weekly on Monday at 09:00 (America/New_York); next: Mon 2 Dec 09:00"."""
    if schedule.kind == "weekly":
        when = f"Weekly on {WEEKDAY_NAMES[schedule.weekday or 0]}"
    elif schedule.weekdays_only:
        when = "Daily on weekdays"
    else:
        when = "Daily"
    text = f"{when} at {schedule.time} ({schedule.tz})"
    if schedule.topics:
        text += f"; topics: {', '.join(schedule.topics)}"
    if schedule.empty == "skip":
        text += "; nothing is posted for an empty period"
    upcoming = next_slot(schedule, now)
    local = datetime.fromtimestamp(upcoming.at, _zone_cached(schedule.tz))
    return f"{text}; next: {format_local(local)}"


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_local(local: datetime, *, year: bool = False) -> str:
    """Short local date-time such as "Mon 2 Dec 09:00", independent of the process locale."""
    day = f"{WEEKDAY_NAMES[local.weekday()][:3]} {local.day} {MONTH_NAMES[local.month - 1]}"
    return f"{day}{f' {local.year}' if year else ''} {local:%H:%M}"
