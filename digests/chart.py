"""The trend chart: stories per topic over a channel's last periods, as a PNG (matplotlib, Agg).

Readable in Slack's light and dark themes: the chart is an opaque light card (its own
background, dark text), so neither theme's background shows through. Colours are the
Okabe–Ito palette (distinguishable with the common colour-vision deficiencies), and each line
also has its own marker shape, so no reader depends on colour alone. The busiest topics get a
line each; the rest are summed into one grey dashed "Other topics" line.

Pure: draws into memory, no display, no files, no network.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no display: before pyplot is ever imported anywhere

from matplotlib.figure import Figure  # noqa: E402

from digests.changes import PeriodRecord  # noqa: E402
from digests.schedule import MONTH_NAMES  # noqa: E402

MIN_PERIODS = 2  # one point is not a trend
MAX_LINES = 6
ALT_MAX_CHARS = 1000  # Slack's limit for a file's alt text
# Okabe & Ito (2008), without yellow (too faint on a light card).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
OTHER_COLOUR = "#7F7F7F"
CARD = "#F7F7F4"  # an opaque light card in both themes
INK = "#1D1C1D"  # Slack's text colour on light
GRID = "#D8D8D4"
BARS = "▁▂▃▄▅▆▇█"
NO_CHART_NOTE = (
    "No trend chart yet: it needs two periods of history (this is the first digest here)."
)


def _day(ts: float, tz: str, with_time: bool = False) -> str:
    try:
        zone = ZoneInfo(tz)
    except Exception:
        zone = ZoneInfo("UTC")
    d = datetime.fromtimestamp(ts, zone)
    return f"{d.day} {MONTH_NAMES[d.month - 1]}" + (f" {d:%H:%M}" if with_time else "")


def _ticks(periods: Sequence[PeriodRecord], tz: str) -> list[str]:
    """Each period's end as a day ("3 Dec"), with the time when two end on one day."""
    days = [_day(p.until, tz) for p in periods]
    if len(set(days)) < len(days):
        return [_day(p.until, tz, with_time=True) for p in periods]
    return days


def _lines(periods: Sequence[PeriodRecord]) -> tuple[list[tuple[str, list[int]]], list[int] | None]:
    """(label, counts per period) for the busiest topics, and the sum of the rest (or None)."""
    totals: dict[str, int] = {}
    labels: dict[str, str] = {}
    for period in periods:
        for topic, n in period.counts.items():
            totals[topic] = totals.get(topic, 0) + n
        for topic, label in period.labels.items():
            labels[topic] = label  # the latest label wins
    ranked = sorted(totals, key=lambda t: (-totals[t], labels.get(t, t).lower()))
    shown = ranked if len(ranked) <= MAX_LINES + 1 else ranked[:MAX_LINES]
    rest = [t for t in ranked if t not in shown]
    lines = [(labels.get(t, t), [p.counts.get(t, 0) for p in periods]) for t in shown]
    other = [sum(p.counts.get(t, 0) for t in rest) for p in periods] if rest else None
    return lines, other


def alt_text(periods: Sequence[PeriodRecord], tz: str) -> str:
    """What the chart shows, in words (screen readers, and Slack's file alt text)."""
    lines, other = _lines(periods)
    days = _ticks(periods, tz)
    text = (
        f"Line chart of stories per topic in the last {len(periods)} digests "
        f"({days[0]} to {days[-1]}). "
    )
    parts = [f"{label}: {', '.join(map(str, counts))}" for label, counts in lines]
    if other is not None:
        parts.append(f"Other topics: {', '.join(map(str, other))}")
    text += "; ".join(parts) + "."
    if len(text) > ALT_MAX_CHARS:
        text = text[: ALT_MAX_CHARS - 1].rsplit(";", 1)[0] + "…"
    return text


def render_chart(periods: Sequence[PeriodRecord], tz: str) -> bytes | None:
    """The PNG, or None with fewer than ``MIN_PERIODS`` periods (oldest first, as
    :func:`digests.changes.series` gives them)."""
    if len(periods) < MIN_PERIODS:
        return None
    lines, other = _lines(periods)
    x = list(range(len(periods)))
    fig = Figure(figsize=(8, 4.2), dpi=100, facecolor=CARD)
    ax = fig.add_axes((0.07, 0.14, 0.62, 0.72), facecolor=CARD)
    for n, (label, counts) in enumerate(lines):
        ax.plot(x, counts, color=OKABE_ITO[n % len(OKABE_ITO)], marker=MARKERS[n % len(MARKERS)],
                linewidth=2.2, markersize=6, label=f"{label} ({counts[-1]})")  # fmt: skip
    if other is not None:
        ax.plot(x, other, color=OTHER_COLOUR, linestyle="--", marker="o", markersize=4,
                linewidth=1.6, label=f"Other topics ({other[-1]})")  # fmt: skip
    ax.set_xticks(x, _ticks(periods, tz))
    ax.tick_params(colors=INK, labelsize=9)
    ax.get_xticklabels()[-1].set_fontweight("bold")
    top = max([n for _, counts in lines for n in counts] + (other or []) + [1])
    ax.set_ylim(0, top * 1.12)  # room above the highest point
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.set_ylabel("stories", color=INK, fontsize=9)
    fig.text(0.07, 0.92, f"Stories per topic, last {len(periods)} digests", color=INK,
             fontsize=13, fontweight="bold")  # fmt: skip
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9,
                       title="latest digest", title_fontsize=8)  # fmt: skip
    for text in legend.get_texts():
        text.set_color(INK)
    legend.get_title().set_color(INK)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=CARD, metadata={"Software": None})
    return buf.getvalue()


def sparklines(periods: Sequence[PeriodRecord]) -> str:
    """The chart's lines as text ("Tariffs  ▂▃▅█  12"), for where a picture can't go."""
    lines, other = _lines(periods)
    rows = [*lines, *([("Other topics", other)] if other is not None else [])]
    top = max((n for _, counts in rows for n in counts), default=0) or 1
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(
        f"{label:<{width}}  {''.join(BARS[round(n / top * (len(BARS) - 1))] for n in counts)}"
        f"  {counts[-1]}"
        for label, counts in rows
    )
