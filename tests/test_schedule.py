"""Schedules: parsing, and slots as a pure function of "now" across DST, moves and downtime."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from digests import schedule as sched
from digests.errors import InputError
from digests.schedule import (
    Schedule,
    Slot,
    describe,
    latest_due_slot,
    next_slot,
    parse_schedule,
    period_start,
)

NY = ZoneInfo("America/New_York")
TOPICS = ("trade", "tariffs", "export_controls", "sanctions", "taiwan")
HOUR = 3600.0
DAY = 86400.0


def ny(*args: int, fold: int = 0) -> float:
    return datetime(*args, tzinfo=NY, fold=fold).timestamp()


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def make(
    kind: str = "daily", at: str = "09:00", *, weekday=None, weekdays_only=False, changed=0.0
) -> Schedule:
    return Schedule(
        kind=kind,
        time=at,
        tz="America/New_York",
        weekday=weekday,
        weekdays_only=weekdays_only,
        changed_at=changed,
    )


def sweep(schedule: Schedule, start: float, end: float, step: float = 30.0) -> list[Slot]:
    """What a clock sweeping every ``step`` seconds would see: each new slot once, in order."""
    seen: list[Slot] = []
    t = start
    while t <= end:
        slot = latest_due_slot(schedule, t)
        if slot is not None and (not seen or seen[-1].name != slot.name):
            seen.append(slot)
        t += step
    return seen


# -- parsing --------------------------------------------------------------------------------------


def test_parse_weekly_with_timezone() -> None:
    s = parse_schedule("weekly mon 09:00 America/New_York", "Europe/Brussels", TOPICS, 123.0)
    assert s == Schedule(
        kind="weekly",
        time="09:00",
        tz="America/New_York",
        weekday=0,
        weekdays_only=False,
        topics=(),
        empty="note",
        changed_at=123.0,
    )


def test_parse_daily_with_all_options_in_any_order() -> None:
    s = parse_schedule(
        "daily empty:skip 8:30 weekdays europe/brussels topics: export_controls, sanctions",
        "UTC",
        TOPICS,
        5.0,
    )
    assert (s.kind, s.time, s.tz, s.weekdays_only) == ("daily", "08:30", "Europe/Brussels", True)
    assert s.topics == ("export_controls", "sanctions")
    assert s.empty == "skip"


def test_parse_defaults_to_the_users_timezone_and_accepts_am_pm() -> None:
    s = parse_schedule("schedule weekly Friday 5pm", "Asia/Tokyo", TOPICS, 0.0)
    assert (s.weekday, s.time, s.tz) == (4, "17:00", "Asia/Tokyo")
    assert parse_schedule("daily 12am", "", TOPICS, 0.0).time == "00:00"
    assert parse_schedule("daily 07:15", "Not/AZone", TOPICS, 0.0).tz == "UTC"


def test_schedule_round_trips_through_json() -> None:
    s = parse_schedule("daily 08:30 Europe/Brussels weekdays topics:trade", "UTC", TOPICS, 9.5)
    assert Schedule.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@pytest.mark.parametrize(
    "fields",
    [{"kind": "monthly"}, {"time": "9:00"}, {"time": "24:00"}, {"weekday": None}, {"empty": "x"}],
)
def test_malformed_schedule_records_are_refused(fields: dict) -> None:
    good = {"kind": "weekly", "time": "09:00", "tz": "UTC", "weekday": 0}
    Schedule(**good)
    with pytest.raises(ValueError):
        Schedule(**{**good, **fields})


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        ("", "how often"),
        ("monthly 09:00", "not a schedule kind"),
        ("weekly 09:00", "need a day"),
        ("weekly mnday 09:00", "not a day"),
        ("weekly mon tue 09:00", "one day"),
        ("daily mon 09:00", "daily schedules run every day"),
        ("weekly mon 09:00 weekdays", "daily schedules only"),
        ("daily 25:00", "not a time"),
        ("daily 9", "not a time"),
        ("daily 09:00 10:00", "one time"),
        ("daily", "say when"),
        ("daily 09:00 Mars/Olympus_Mons", "not a timezone"),
        ("daily 09:00 EST", "not a timezone"),
        ("daily 09:00 topics:export_controls,nukes", "unknown topic"),
        ("daily 09:00 topics:", "at least one topic"),
        ("daily 09:00 empty:maybe", "empty:"),
        ("daily 09:00 gibberish", "didn't understand"),
    ],
)
def test_parse_errors_are_friendly_with_an_example(args: str, hint: str) -> None:
    with pytest.raises(InputError) as info:
        parse_schedule(args, "UTC", TOPICS, 0.0)
    assert info.value.code == "bad_schedule"
    assert hint.lower() in info.value.message.lower()
    assert "For example: `/digest schedule" in info.value.message


# -- slots: ordinary days -------------------------------------------------------------------------


def test_daily_slot_is_named_by_local_date_and_time() -> None:
    s = make("daily", "09:00")
    slot = latest_due_slot(s, ny(2026, 1, 14, 9, 0))
    assert slot == Slot(name="2026-01-14T09:00", at=ny(2026, 1, 14, 9, 0))
    assert latest_due_slot(s, ny(2026, 1, 14, 8, 59, 59)).name == "2026-01-13T09:00"


def test_weekdays_only_skips_the_weekend_and_monday_reaches_back_to_friday() -> None:
    s = make("daily", "09:00", weekdays_only=True)
    assert latest_due_slot(s, ny(2026, 1, 18, 12)).name == "2026-01-16T09:00"  # Sunday → Friday
    monday = latest_due_slot(s, ny(2026, 1, 19, 9, 30))
    assert monday.name == "2026-01-19T09:00"
    assert period_start(s, monday) == ny(2026, 1, 16, 9, 0)
    tuesday = latest_due_slot(s, ny(2026, 1, 20, 9, 30))
    assert period_start(s, tuesday) == ny(2026, 1, 19, 9, 0)


def test_weekly_period_is_one_week_back() -> None:
    s = make("weekly", "09:00", weekday=0)
    slot = latest_due_slot(s, ny(2026, 1, 21, 12))  # a Wednesday
    assert slot.name == "2026-01-19T09:00"
    assert period_start(s, slot) == ny(2026, 1, 12, 9, 0)


# -- slots: DST in America/New_York (2026: spring forward 8 Mar, fall back 1 Nov) ------------------


def test_0900_across_the_march_change_keeps_local_time() -> None:
    s = make("daily", "09:00")
    slots = sweep(s, ny(2026, 3, 7, 8), ny(2026, 3, 9, 10), step=300)
    assert [x.name for x in slots] == [
        "2026-03-06T09:00",
        "2026-03-07T09:00",
        "2026-03-08T09:00",
        "2026-03-09T09:00",
    ]
    assert slots[1].at == utc(2026, 3, 7, 14)  # EST
    assert slots[2].at == utc(2026, 3, 8, 13)  # EDT
    assert period_start(s, slots[2]) == slots[1].at  # a 23-hour day


def test_0230_skipped_in_march_runs_at_0300() -> None:
    s = make("daily", "02:30")
    slots = sweep(s, ny(2026, 3, 8, 0), ny(2026, 3, 8, 6))
    assert [x.name for x in slots] == ["2026-03-07T02:30", "2026-03-08T02:30"]
    assert slots[1].at == ny(2026, 3, 8, 3, 0) == utc(2026, 3, 8, 7)
    assert latest_due_slot(s, utc(2026, 3, 8, 6, 59, 59)).name == "2026-03-07T02:30"
    assert next_slot(s, ny(2026, 3, 8, 1, 0)).at == utc(2026, 3, 8, 7)


def test_0130_repeated_in_november_runs_once_at_the_first_occurrence() -> None:
    s = make("daily", "01:30")
    first = ny(2026, 11, 1, 1, 30, fold=0)
    second = ny(2026, 11, 1, 1, 30, fold=1)
    assert second - first == HOUR
    slots = sweep(s, ny(2026, 10, 31, 23), ny(2026, 11, 1, 4))
    assert [x.name for x in slots] == ["2026-10-31T01:30", "2026-11-01T01:30"]
    assert slots[1].at == first == utc(2026, 11, 1, 5, 30)
    # After the second 01:30 the latest slot is still that one: the ledger sees one name.
    assert latest_due_slot(s, second + 60) == slots[1]
    assert next_slot(s, first).name == "2026-11-02T01:30"


def test_0130_and_0230_on_the_other_change_days() -> None:
    assert latest_due_slot(make("daily", "01:30"), ny(2026, 3, 8, 4)).at == utc(2026, 3, 8, 6, 30)
    late = latest_due_slot(make("daily", "02:30"), ny(2026, 11, 1, 4))
    assert late.name == "2026-11-01T02:30"
    assert late.at == utc(2026, 11, 1, 7, 30)  # only once, in EST


@pytest.mark.parametrize(
    ("at", "day", "expected_utc"),
    [
        ("02:30", (2026, 3, 8), (2026, 3, 8, 7, 0)),
        ("01:30", (2026, 11, 1), (2026, 11, 1, 5, 30)),
        ("09:00", (2026, 3, 8), (2026, 3, 8, 13, 0)),
        ("09:00", (2026, 11, 1), (2026, 11, 1, 14, 0)),
    ],
)
def test_weekly_sunday_slots_on_change_days(at: str, day: tuple, expected_utc: tuple) -> None:
    s = make("weekly", at, weekday=6)
    slots = sweep(s, utc(*day) - DAY, utc(*day) + 2 * DAY, step=60)
    assert [x.name for x in slots][-1] == f"{datetime(*day).date().isoformat()}T{at}"
    assert slots[-1].at == utc(*expected_utc)
    assert period_start(s, slots[-1]) == slots[-2].at
    assert abs((slots[-1].at - slots[-2].at) - 7 * DAY) <= HOUR


def test_weekly_monday_0900_week_spanning_dst_is_167_hours() -> None:
    s = make("weekly", "09:00", weekday=0)
    slot = latest_due_slot(s, ny(2026, 3, 9, 9, 0))
    assert slot.at - period_start(s, slot) == 167 * HOUR


# -- changes, downtime, efficiency -----------------------------------------------------------------


def test_new_schedule_never_posts_at_once() -> None:
    created = ny(2026, 1, 19, 9, 5)  # Monday 09:05, five minutes after "its" slot
    s = parse_schedule("weekly mon 09:00 America/New_York", "UTC", TOPICS, created)
    assert latest_due_slot(s, created) is None
    assert latest_due_slot(s, ny(2026, 1, 26, 8, 59)) is None
    assert latest_due_slot(s, ny(2026, 1, 26, 9, 0)).name == "2026-01-26T09:00"
    assert next_slot(s, created).name == "2026-01-26T09:00"


def test_schedule_moved_mid_week_has_no_slot_before_the_change() -> None:
    moved = ny(2026, 1, 21, 15)  # Wednesday afternoon: Monday 09:00 moved to Friday 09:00
    s = make("weekly", "09:00", weekday=4, changed=moved)
    assert latest_due_slot(s, ny(2026, 1, 22, 12)) is None  # last Friday predates the move
    assert latest_due_slot(s, ny(2026, 1, 23, 9)).name == "2026-01-23T09:00"
    # Moved to a later time the same day: today's earlier slot does not count.
    s2 = make("daily", "16:00", changed=moved)
    assert latest_due_slot(s2, ny(2026, 1, 21, 15, 59)) is None
    assert latest_due_slot(s2, ny(2026, 1, 21, 16)).name == "2026-01-21T16:00"


def test_downtime_over_several_slots_folds_into_the_latest() -> None:
    s = make("daily", "09:00", changed=ny(2026, 1, 1))
    before = latest_due_slot(s, ny(2026, 1, 5, 8))
    assert before.name == "2026-01-04T09:00"
    # The clock is down from 5 Jan 08:00 until 9 Jan 10:00: one sweep, one slot.
    after = latest_due_slot(s, ny(2026, 1, 9, 10))
    assert after.name == "2026-01-09T09:00"
    assert period_start(s, after) == ny(2026, 1, 8, 9)  # at most one period back


def test_years_after_the_change_is_constant_work(monkeypatch: pytest.MonkeyPatch) -> None:
    s = make("weekly", "02:30", weekday=6, changed=utc(2020, 1, 1))
    calls = 0
    real = sched._slot_for

    def counting(*args):
        nonlocal calls
        calls += 1
        return real(*args)

    monkeypatch.setattr(sched, "_slot_for", counting)
    slot = latest_due_slot(s, utc(2046, 3, 14, 12))
    assert slot.name == "2046-03-11T02:30"
    assert calls <= 2  # one candidate Sunday back, not 26 years of days
    calls = 0
    for k in range(500):
        latest_due_slot(s, utc(2046, 1, 1) + k * 7919.0)
    assert calls <= 2 * 500  # every lookup stays within a couple of candidates, never a scan


def test_describe_echoes_timezone_and_next_run() -> None:
    now = ny(2024, 11, 27, 12)
    s = parse_schedule("weekly mon 09:00 America/New_York", "UTC", TOPICS, now)
    assert describe(s, now) == "Weekly on Monday at 09:00 (America/New_York); next: Mon 2 Dec 09:00"
    d = parse_schedule(
        "daily 02:30 weekdays topics:trade empty:skip", "America/New_York", TOPICS, 0
    )
    text = describe(d, ny(2026, 3, 6, 12))
    assert text.startswith("Daily on weekdays at 02:30 (America/New_York); topics: trade")
    assert "nothing is posted" in text
    assert text.endswith("next: Mon 9 Mar 02:30")
    every_day = make("daily", "02:30")
    assert describe(every_day, ny(2026, 3, 7, 12)).endswith("next: Sun 8 Mar 03:00")
