"""Digests are posted exactly once: real Redis, the fake Slack API (with history and metadata),
and "now" driven by the test. Lease expiry is simulated by deleting the lock key."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import Hooks, compose
from bot.delivery.ledger import ChannelLock, Schedules
from bot.delivery.poster import EVENT_TYPE
from bot.delivery.sweeper import Sweeper
from bot.slack.app import make_client
from digests.render import check_blocks
from digests.schedule import Schedule, latest_due_slot

TEAM, CHANNEL = "T0LOCAL", "C0DIGEST"
NY = ZoneInfo("America/New_York")


class Died(BaseException):
    """A process dying mid-post: not an Exception, so nothing on the way catches it."""


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=NY).timestamp()


def client(h):
    return make_client(h.settings, retry_connection_errors=False)


WORDS = ("harbor", "wheat", "lithium", "satellite", "vaccine", "pension", "railway", "copper",
         "tariff", "drone", "soybean", "refinery", "shipyard", "battery", "uranium", "cotton")  # fmt: skip


def share(h, n: int, when: float, topic: str = "export_controls", title: str | None = None) -> str:
    """A stored share whose title and summary share no words with any other n (so no two
    cluster, whatever the batch size)."""
    store = h.bot.stores.for_team(TEAM)
    akey = f"u{n:05d}"
    distinct = " ".join(f"{WORDS[(n + i) % len(WORDS)]}{n}" for i in range(3))
    store.save_article(akey, {
        "title": title or f"Story number {n} {distinct}",
        "url": f"https://news{n % 5}.example/a/{n}", "site": f"News {n % 5}",
        "summary": [f"Zeta{n} word{n} eta{n} rho{n}.", f"Theta{n} iota{n} kappa{n}."],
        "topics": [{"topic": topic, "label": topic.title(), "score": 0.9, "evidence": [topic]}],
    }, now=when)  # fmt: skip
    store.add_share(CHANNEL, akey, user=f"U{n % 3}", message_ts=f"{when:.6f}", now=when)
    return akey


def schedule(h, changed_at: float, **kw) -> Schedule:
    sched = Schedule(kind=kw.pop("kind", "weekly"), time=kw.pop("time", "09:00"), tz="America/New_York",
                     weekday=kw.pop("weekday", 0), changed_at=changed_at, **kw)  # fmt: skip
    Schedules(h.bot.stores.for_team(TEAM)).set(CHANNEL, sched.to_dict())
    return sched


def digest_posts(h) -> list[dict]:
    """Every digest part Slack holds, with (slot, part) from its metadata."""
    return [
        m
        for m in h.fake.posts(CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    ]


def parts_of(h) -> Counter:
    return Counter(
        (m["metadata"]["event_payload"]["slot"], m["metadata"]["event_payload"]["part"])
        for m in digest_posts(h)
    )


def assert_four_parts_once(h) -> None:
    """The seeded week's digest: parent + three topic parts, each in Slack exactly once."""
    counts = parts_of(h)
    assert len(counts) == 4 and all(n == 1 for n in counts.values()), counts


def expire_lock(h) -> None:
    h.bot.redis.delete(h.bot.stores.for_team(TEAM).k("lock", CHANNEL))


def another_process(h, owner: str = "pd-other") -> Sweeper:
    """A second clock process: same store and config, its own owner id."""
    return compose(h.settings, h.bot.redis, hooks=Hooks(owner_id=owner, post_interval=0)).sweeper


MONDAY = at("2026-03-02T09:00")  # a Monday


def seed_week(h, count: int = 6) -> None:
    topics = ["export_controls", "sanctions", "tariffs"]
    for n in range(count):
        share(h, n, MONDAY - 3 * 86400 + n * 600, topic=topics[n % 3])


def test_a_due_slot_posts_a_parent_and_one_reply_per_topic(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    outcome = h.bot.sweeper.sweep(now=MONDAY + 60)
    assert outcome == {f"{TEAM}/{CHANNEL}/2026-03-02T09:00": "posted"}
    posts = digest_posts(h)
    assert len(posts) == 4  # parent + export_controls, sanctions, tariffs
    parent = posts[0]
    assert parent["thread_ts"] is None and all(p["thread_ts"] == parent["ts"] for p in posts[1:])
    assert all(check_blocks(p["blocks"]) == [] for p in posts)
    # a second sweep in the same slot finds it done
    assert h.bot.sweeper.sweep(now=MONDAY + 90) == {
        f"{TEAM}/{CHANNEL}/2026-03-02T09:00": "done_before"
    }
    assert len(digest_posts(h)) == 4


def test_two_clocks_on_the_same_slot_post_once(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    clocks = [h.bot.sweeper, another_process(h)]
    barrier = threading.Barrier(2)

    def run(svc):
        barrier.wait()
        svc.sweep(now=MONDAY + 60)

    threads = [threading.Thread(target=run, args=(svc,)) for svc in clocks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for svc in clocks:  # whoever was "busy" tries again on its next sweep
        svc.sweep(now=MONDAY + 90)
    counts = parts_of(h)
    assert counts and all(n == 1 for n in counts.values()), counts
    assert len(counts) == 4


def test_death_after_claim_before_posting_is_finished_once_by_the_next_claimant(h, monkeypatch):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    monkeypatch.setattr(Schedules, "mark_try", _die_once(Schedules.mark_try))
    monkeypatch.setattr(
        ChannelLock, "release", lambda self: None
    )  # a dead process releases nothing
    with pytest.raises(Died):
        h.bot.sweeper.sweep(now=MONDAY + 60)
    assert digest_posts(h) == []
    # while the lease lives, nobody else posts
    assert another_process(h).sweep(now=MONDAY + 90) == {
        f"{TEAM}/{CHANNEL}/2026-03-02T09:00": "busy"
    }
    expire_lock(h)
    another_process(h).sweep(now=MONDAY + 120)
    counts = parts_of(h)
    assert len(counts) == 4 and all(n == 1 for n in counts.values())


def test_death_after_slack_accepted_a_part_before_marking_it_does_not_repost_it(h, monkeypatch):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    monkeypatch.setattr(Schedules, "mark_part", _die_once(Schedules.mark_part, after=1))
    monkeypatch.setattr(ChannelLock, "release", lambda self: None)
    with pytest.raises(Died):
        h.bot.sweeper.sweep(now=MONDAY + 60)
    assert len(digest_posts(h)) == 2  # parent marked; part 1 reached Slack, unmarked
    expire_lock(h)
    another_process(h).sweep(now=MONDAY + 120)
    assert_four_parts_once(h)
    assert h.fake.calls_to("conversations.replies")  # it looked before re-posting


def test_a_connection_dropped_after_slack_took_the_post_makes_no_duplicate(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", drop_after_accept=True)
    first = h.bot.sweeper.sweep(now=MONDAY + 60)
    assert first[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "failed"
    h.bot.sweeper.sweep(now=MONDAY + 90)
    assert_four_parts_once(h)
    assert h.fake.calls_to("conversations.history")


def test_a_500_mid_digest_is_not_retried_blindly(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", status=500, skip=2)
    h.bot.sweeper.sweep(now=MONDAY + 60)
    h.bot.sweeper.sweep(now=MONDAY + 90)
    assert_four_parts_once(h)


def test_429_mid_digest_waits_and_posts_no_duplicate(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", status=429, retry_after=1, skip=1)
    assert h.bot.sweeper.sweep(now=MONDAY + 60)[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "posted"
    assert_four_parts_once(h)


def test_a_schedule_created_mid_week_does_not_post_at_once(h):
    wednesday = MONDAY + 2 * 86400
    schedule(h, changed_at=wednesday)
    seed_week(h)
    assert h.bot.sweeper.sweep(now=wednesday + 30) == {}
    assert digest_posts(h) == []
    # the next Monday posts
    assert h.bot.sweeper.sweep(now=MONDAY + 7 * 86400 + 30)


def test_downtime_across_slots_posts_the_latest_slot_once(h):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    seed_week(h)
    later = MONDAY + 21 * 86400 + 3600  # three weekly slots missed
    h.bot.sweeper.sweep(now=later)
    h.bot.sweeper.sweep(now=later + 30)
    slots = {slot for slot, _ in parts_of(h)}
    assert slots == {"2026-03-23T09:00"}


def test_digest_now_racing_a_slot_never_posts_an_item_twice(h):
    now = time.time()
    local = datetime.fromtimestamp(now - 120, NY)
    sched = schedule(h, changed_at=now - 3 * 86400, kind="daily", weekday=None,
                     time=f"{local:%H:%M}")  # fmt: skip
    slot = latest_due_slot(sched, now)
    assert slot is not None
    for n in range(8):  # before and after the slot instant
        share(h, n, slot.at - 3600 + n * 900)
    responses: list[str] = []
    other = another_process(h)
    from digests.commands import parse_command

    def run_now():
        h.bot.commands.run(parse_command("now"), client=client(h), team=TEAM, channel=CHANNEL,
                               user="U1", respond=lambda **kw: responses.append(kw["text"]))  # fmt: skip

    threads = [threading.Thread(target=run_now),
               threading.Thread(target=lambda: other.sweep(now=now))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any("being posted" in r for r in responses):  # the slot won the lock: ask again, as told
        run_now()
    other.sweep(now=now + 30)
    seen = Counter()
    for post in digest_posts(h):
        text = str(post["blocks"])
        for n in range(8):
            if f"Story number {n} " in text:
                seen[n] += 1
    shared_by_then = [n for n in range(8) if slot.at - 3600 + n * 900 < now]
    assert sorted(seen) == shared_by_then and all(v == 1 for v in seen.values()), seen


def test_redis_down_at_a_slot_skips_and_posts_when_back(h, dead_redis):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    down = compose(h.settings, dead_redis, hooks=Hooks(post_interval=0)).sweeper
    assert down.sweep(now=MONDAY + 60) == {}
    assert digest_posts(h) == []
    h.bot.sweeper.sweep(now=MONDAY + 90)
    assert len(digest_posts(h)) == 4


def test_empty_period_posts_a_note_or_nothing_as_chosen(h):
    schedule(h, changed_at=MONDAY - 10 * 86400, empty="note")
    h.bot.sweeper.sweep(now=MONDAY + 60)
    (note,) = digest_posts(h)
    assert "othing" in note["text"]
    schedule(h, changed_at=MONDAY - 10 * 86400, empty="skip")
    h.bot.sweeper.sweep(now=MONDAY + 7 * 86400 + 60)
    assert len(digest_posts(h)) == 1


def test_a_long_digest_stays_one_message_per_topic_within_block_kit_limits(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    for n in range(300):
        share(h, n, MONDAY - 5 * 86400 + n * 60, topic=["export_controls", "sanctions"][n % 2])
    h.bot.sweeper.sweep(now=MONDAY + 60)
    posts = digest_posts(h)
    assert len(posts) == 3  # the parent and one part per topic: top stories, then headlines
    assert all(check_blocks(p["blocks"]) == [] for p in posts)
    for part in posts[1:]:
        assert part["blocks"][-1]["text"]["text"].startswith("*+145 more:* ")


def test_a_simulated_year_with_restarts_posts_each_slot_exactly_once(h, monkeypatch):
    rng = random.Random(7)
    start = at("2026-01-05T00:00")
    schedule(h, changed_at=start, empty="note")
    monkeypatch.setattr(ChannelLock, "release", lambda self: None)
    now, end = start, start + 365 * 86400
    clock = h.bot.sweeper
    # Charts are uploaded as usual; drawing 50 real ones would only make this test slow.
    clock.poster.draw_chart = fake_chart
    expected_slots = set()
    crashes = 0
    sched = Schedule.from_dict(Schedules(h.bot.stores.for_team(TEAM)).get(CHANNEL))
    stories = 0
    while now < end:
        if rng.random() < 0.3:  # someone shares a story
            share(h, stories, now + 1, topic=rng.choice(["trade", "sanctions", "taiwan"]))
            stories += 1
        now += rng.choice([30, 30, 30, 3600, 6 * 3600, 86400, 3 * 86400])
        slot = latest_due_slot(sched, now)
        if rng.random() < 0.05:  # a restart: a new process; the old lease expires
            clock = another_process(h, f"pd-{rng.random()}")
            clock.poster.draw_chart = fake_chart
            expire_lock(h)
        ledger = Schedules(h.bot.stores.for_team(TEAM)).ledger(CHANNEL, slot.name) if slot else {}
        if slot and ledger.get("state") != "done" and rng.random() < 0.3:  # a crash mid-post
            monkeypatch.setattr(Schedules, "mark_part", _die_once(Schedules.mark_part))
            try:  # dies if this sweep had something to post
                clock.sweep(now=now)
            except Died:
                crashes += 1
            monkeypatch.undo()
            monkeypatch.setattr(ChannelLock, "release", lambda self: None)
            expire_lock(h)
        else:
            clock.sweep(now=now)
            expire_lock(h)  # release is disabled; the lease "expires" between sweeps
        if slot is not None:
            expected_slots.add(slot.name)
    counts = parts_of(h)
    assert counts and all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]
    posted = {slot for slot, _ in counts}
    # every slot seen due was posted, except those folded into a later one by downtime
    assert posted <= expected_slots and len(posted) >= 0.6 * len(expected_slots)
    assert crashes >= 1  # the run did exercise a crash mid-post
    seen = story_counts(h, stories)
    assert all(v == 1 for v in seen.values()), [n for n, v in seen.items() if v > 1]
    # stories shared in a period that downtime folded away are not posted; the rest are
    assert len(seen) >= 0.5 * stories


def fake_chart(periods, tz: str) -> bytes:
    return b"\x89PNG"


def _die_once(original, after: int = 0):
    state = {"calls": 0}

    def wrapper(self, *args, **kwargs):
        state["calls"] += 1
        if state["calls"] == after + 1:
            raise Died()
        return original(self, *args, **kwargs)

    return wrapper


# -- review findings: each once a real way to double-post or lose a digest ----------------------


def test_the_shell_clock_never_touches_other_workspaces(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    assert h.bot.sweeper.sweep(now=MONDAY + 60, teams=["TSHELL"]) == {}
    assert digest_posts(h) == []
    assert Schedules(h.bot.stores.for_team(TEAM)).last_digest(CHANNEL) is None


def test_the_last_digest_mark_never_moves_back(h):
    now = time.time()
    local = datetime.fromtimestamp(now - 120, NY)
    sched = schedule(
        h, changed_at=now - 3 * 86400, kind="daily", weekday=None, time=f"{local:%H:%M}"
    )
    slot = latest_due_slot(sched, now)
    for n in range(4):
        share(h, n, slot.at - 3600 + n * 60)
    respond = []
    from digests.commands import parse_command

    h.bot.commands.run(parse_command("now"), client=client(h), team=TEAM, channel=CHANNEL,
                           user="U1", respond=lambda **kw: respond.append(kw["text"]))  # fmt: skip
    mark = Schedules(h.bot.stores.for_team(TEAM)).last_digest(CHANNEL)
    assert mark >= now
    assert h.bot.sweeper.sweep(now=now)[f"{TEAM}/{CHANNEL}/{slot.name}"] == "skipped_empty"
    assert Schedules(h.bot.stores.for_team(TEAM)).last_digest(CHANNEL) == mark
    # the next day's slot does not repeat what `/digest now` posted
    h.bot.sweeper.sweep(now=slot.at + 86400 + 60)
    stories = Counter(
        n for p in digest_posts(h) for n in range(4) if f"Story number {n} " in str(p["blocks"])
    )
    assert all(v == 1 for v in stories.values()) and len(stories) == 4


def test_an_unfinished_slot_is_finished_before_digest_now_plans_anew(h):
    now = time.time()
    local = datetime.fromtimestamp(now - 600, NY)
    sched = schedule(
        h, changed_at=now - 3 * 86400, kind="daily", weekday=None, time=f"{local:%H:%M}"
    )
    slot = latest_due_slot(sched, now)
    topics = ["export_controls", "sanctions", "tariffs"]
    for n in range(6):  # all before the slot: the slot's digest holds them
        share(h, n, slot.at - 3600 + n * 60, topic=topics[n % 3])
    h.fake.fail("chat.postMessage", status=500, skip=1)
    assert h.bot.sweeper.sweep(now=now)[f"{TEAM}/{CHANNEL}/{slot.name}"] == "failed"
    assert len(digest_posts(h)) == 1  # the parent only
    for n in range(6, 8):  # shared after the slot: only `/digest now` should post these
        share(h, n, now - 60 + n)
    answers = []
    from digests.commands import parse_command

    h.bot.commands.run(parse_command("now"), client=client(h), team=TEAM, channel=CHANNEL,
                           user="U1", respond=lambda **kw: answers.append(kw["text"]))  # fmt: skip
    assert "Posted the digest (2 stories)" in answers[-1]
    stories = story_counts(h, 8)
    assert sorted(stories) == list(range(8)) and all(v == 1 for v in stories.values()), stories
    assert all(n == 1 for n in parts_of(h).values())


def story_counts(h, n: int) -> Counter:
    """How many digest parts mention each of stories 0..n-1."""
    return Counter(
        i for p in digest_posts(h) for i in range(n) if f"Story number {i} " in str(p["blocks"])
    )


def test_digest_now_does_not_resend_after_a_dropped_connection(h):
    share(h, 1, time.time() - 3600)
    h.fake.fail("chat.postMessage", drop_after_accept=True)
    from digests.commands import parse_command

    answers = []
    h.bot.commands.run(parse_command("now"), client=client(h), team=TEAM, channel=CHANNEL,
                           user="U1", respond=lambda **kw: answers.append(kw["text"]))  # fmt: skip
    assert "retry" in answers[-1]
    # the clock finishes the open `now` slot (the channel has no schedule) without a duplicate
    h.bot.sweeper.sweep(now=time.time() + 3600)
    assert len(digest_posts(h)) == 2 and all(n == 1 for n in parts_of(h).values())


def test_the_lease_is_renewed_while_held_and_lost_when_taken(h):
    from bot.delivery.ledger import ChannelLock

    store = h.bot.stores.for_team(TEAM)
    lock = ChannelLock(store, CHANNEL, "a", lease_ms=300)
    assert lock.acquire()
    time.sleep(0.8)  # well past one lease: the heartbeat kept it
    assert not ChannelLock(store, CHANNEL, "b", lease_ms=300).acquire()
    expire_lock(h)
    assert ChannelLock(store, CHANNEL, "b", lease_ms=300).acquire()
    time.sleep(0.3)
    assert lock.lost
    lock.release()  # releasing a lost lock does not free the new holder's
    assert not ChannelLock(store, CHANNEL, "c", lease_ms=300).acquire()


def test_a_definitive_refusal_backs_off_then_gives_up_and_items_roll_over(h):
    from bot.delivery.ledger import MAX_ATTEMPTS

    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", error="not_in_channel", times=MAX_ATTEMPTS)
    now, statuses = MONDAY + 60, []
    for _ in range(80):
        statuses.append(h.bot.sweeper.sweep(now=now)[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"])
        now += 30
    assert statuses.count("failed") == MAX_ATTEMPTS and "backoff" in statuses
    assert not h.fake.calls_to("conversations.history")  # refusals need no history lookup
    assert digest_posts(h) == []
    h.bot.sweeper.sweep(now=MONDAY + 7 * 86400 + 60)  # next week: the items come along
    text = " ".join(str(p["blocks"]) for p in digest_posts(h))
    assert all(f"Story number {n} " in text for n in range(6))


def test_a_broken_schedule_record_does_not_stop_other_channels(h):
    store = h.bot.stores.for_team(TEAM)
    store.r.hset(
        store.k("schedules"),
        "CBROKEN",
        '{"kind": "weekly", "time": "09:00", "tz": "Nowhere/Land", "weekday": 0}',
    )
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    outcomes = h.bot.sweeper.sweep(now=MONDAY + 60)
    assert outcomes[f"{TEAM}/CBROKEN"] == "error"
    assert outcomes[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "posted"


def test_a_preview_of_a_big_digest_fits_one_message():
    from bot.delivery.builder import preview_blocks

    section = [{"type": "section", "text": {"type": "mrkdwn", "text": "story"}}] * 12
    parts = [("Policy digest: 40 stories", section[:2])] + [
        (f"Topic {i}", section) for i in range(9)
    ]
    text, blocks = preview_blocks(parts)
    assert text == "Preview: Policy digest: 40 stories"
    assert len(blocks) <= 50 and check_blocks(blocks) == []
    assert "more sections in the posted digest" in blocks[-1]["elements"][0]["text"]


def test_a_500_after_slack_accepted_the_post_is_found_in_history_not_reposted(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", status=500, accept=True, skip=1)
    h.bot.sweeper.sweep(now=MONDAY + 60)
    h.bot.sweeper.sweep(now=MONDAY + 90)
    assert_four_parts_once(h)
    assert h.fake.calls_to("conversations.replies")


def test_unreadable_history_backs_off_instead_of_blocking_the_channel(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", drop_after_accept=True, skip=1)
    h.fake.fail("conversations.replies", error="missing_scope", times=2)
    key = f"{TEAM}/{CHANNEL}/2026-03-02T09:00"
    assert h.bot.sweeper.sweep(now=MONDAY + 60)[key] == "failed"  # the dropped post
    assert h.bot.sweeper.sweep(now=MONDAY + 90)[key] == "failed"  # history refused
    assert h.bot.sweeper.sweep(now=MONDAY + 100)[key] == "backoff"
    assert h.bot.sweeper.sweep(now=MONDAY + 400)[key] == "failed"  # refused again
    assert h.bot.sweeper.sweep(now=MONDAY + 2000)[key] == "posted"
    assert_four_parts_once(h)


def test_a_half_posted_digest_given_up_is_not_reposted_next_time(h):
    from bot.delivery.ledger import MAX_ATTEMPTS

    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", error="invalid_blocks", skip=2, times=MAX_ATTEMPTS)
    now = MONDAY + 60
    for _ in range(MAX_ATTEMPTS * 8):
        h.bot.sweeper.sweep(now=now)
        now += 600
    first = story_counts(h, 6)
    assert len(parts_of(h)) == 2 and first  # parent and one section got out
    h.bot.sweeper.sweep(now=MONDAY + 7 * 86400 + 60)
    again = story_counts(h, 6)
    assert again == first  # nothing from the half-posted week came back


def test_a_holder_that_lost_its_lease_stops_posting(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    other = another_process(h)

    def lose_the_lease(_seconds):
        h.bot.poster.sleep = lambda s: None
        expire_lock(h)  # our lease vanished (eviction, a long pause)…
        other.sweep(now=MONDAY + 61)  # …and another clock took the slot over

    h.bot.poster.sleep = lose_the_lease
    h.bot.poster.post_interval = 1
    assert (
        h.bot.sweeper.sweep(now=MONDAY + 60)[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "lost_lease"
    )
    assert_four_parts_once(h)


def test_an_open_now_slot_is_finished_before_the_schedule_is_due(h):
    now = time.time()
    schedule(h, changed_at=now - 60)  # weekly, next run days away
    share(h, 1, now - 3600)
    share(h, 2, now - 3000, topic="sanctions")
    h.fake.fail("chat.postMessage", drop_after_accept=True, skip=1)
    from digests.commands import parse_command

    h.bot.commands.run(parse_command("now"), client=client(h), team=TEAM, channel=CHANNEL,
                           user="U1", respond=lambda **kw: None)  # fmt: skip
    h.bot.sweeper.sweep(now=now + 3600)
    assert story_counts(h, 3) == Counter({1: 1, 2: 1})
    assert all(n == 1 for n in parts_of(h).values())


def test_the_history_search_pages_through_a_busy_channel(h):
    schedule(h, changed_at=MONDAY - 10 * 86400)
    seed_week(h)
    h.fake.fail("chat.postMessage", drop_after_accept=True)
    h.bot.sweeper.sweep(now=MONDAY + 60)
    chatter = make_client(h.settings)
    for i in range(250):  # the channel keeps talking after the dropped parent
        chatter.chat_postMessage(channel=CHANNEL, text=f"chat {i}")
    h.bot.sweeper.sweep(now=MONDAY + 120)
    assert_four_parts_once(h)
