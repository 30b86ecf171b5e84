"""What changed between periods, and the trend chart (pure: no Slack, no Redis)."""

from __future__ import annotations

import io

from digests.changes import (
    PeriodRecord,
    change_text,
    developing_keys,
    previous_of,
    series,
    topic_changes,
)
from digests.chart import MAX_LINES, OKABE_ITO, alt_text, render_chart, sparklines
from digests.models import SharedItem, TopicTag

DAY = 86_400.0
LABELS = {f"t{i}": f"Topic {i}" for i in range(11)}


def period(i: int, counts: dict[str, int]) -> PeriodRecord:
    return PeriodRecord(i * 7 * DAY, (i + 1) * 7 * DAY, counts, LABELS, sum(counts.values()))


def item(key: str, title: str, summary: str, at: float) -> SharedItem:
    return SharedItem(key=key, title=title, summary=[summary], topics=[TopicTag("t1", "T", 0.9)],
                      shared_at=at, sharers=["U1"], url=f"https://n.example/{key}")  # fmt: skip


def test_counts_against_the_previous_period() -> None:
    changes = topic_changes({"a": 15, "b": 2, "c": 4, "d": 3}, {"a": 3, "b": 5, "c": 4, "e": 9})
    assert changes == {"a": 12, "b": -3, "c": 0, "d": None}
    assert [change_text(changes[t]) for t in "abcd"] == ["▲ 12", "▼ 3", "±0", "new"]


def test_previous_and_series_are_the_periods_before_this_one() -> None:
    history = [period(i, {"t0": i}) for i in range(10)]
    current = period(10, {"t0": 10})
    assert previous_of(history, current.since) == history[-1]
    assert previous_of(history, history[0].since) is None
    chart = series(history, current)
    assert [p.until for p in chart] == [p.until for p in history[-7:]] + [current.until]
    assert series([], current) == [current]
    record = PeriodRecord.from_dict(current.to_dict())
    assert record == current


def test_still_developing_is_the_same_event_in_both_periods() -> None:
    before = [
        item(
            "a1", "Zorblat Corp hit with kelvane tariff review", "Zorblat kelvane review opens.", 1
        ),
        item("a2", "Harbor cranes face new duties", "Port cranes duties announced.", 2),
    ]
    now = [
        item(
            "b1", "Zorblat Corp kelvane tariff review widens", "Zorblat kelvane review widens.", 9
        ),
        item("b2", "Taipei approves defence budget", "Record budget for the island.", 9),
    ]
    assert developing_keys(before, now) == {"b1"}
    assert developing_keys([], now) == set()


def test_no_chart_under_two_periods() -> None:
    assert render_chart([period(0, {"t0": 3})], "UTC") is None
    assert render_chart([], "UTC") is None


def test_the_chart_is_a_png_with_a_line_per_busy_topic_and_alt_text() -> None:
    from PIL import Image  # matplotlib's own dependency

    periods = [period(i, {f"t{k}": (k + 1) * (i + 1) for k in range(11)}) for i in range(8)]
    png = render_chart(periods, "America/New_York")
    assert png is not None and png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (800, 420)
    # An opaque light card: the corners are the card colour in either Slack theme.
    assert all(sum(image.getpixel(xy)) > 700 for xy in [(2, 2), (797, 417)])
    # The busiest topic's line is drawn in the first Okabe-Ito colour.
    first = tuple(int(OKABE_ITO[0][i : i + 2], 16) for i in (1, 3, 5))
    colours = {image.getpixel((x, y)) for x in range(0, 800, 2) for y in range(0, 420, 2)}
    assert first in colours
    alt = alt_text(periods, "America/New_York")
    assert alt.startswith("Line chart of stories per topic in the last 8 digests")
    assert "Topic 10: 11, 22, 33" in alt and "Other topics:" in alt and len(alt) <= 1000
    text = sparklines(periods)
    assert len(text.splitlines()) == MAX_LINES + 1 and text.splitlines()[0].endswith("88")
