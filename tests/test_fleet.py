"""The process-level fault test: 2 web, 2 worker and 2 clock processes (as the Procfile runs
them) on one private Redis-compatible server and the fake Slack. A worker is killed (-9)
mid-job while shares flow, and a clock is killed (-9) mid-post. Every share is answered
exactly once, every digest part is posted once, nothing is lost. (``bench/queue_scale.py``
runs the same scenario with 500 shares.)"""

from __future__ import annotations

import pytest

from tests.fleet import Fleet, run_faults

SHARES = 40
CHANNELS = ["C0FLEETA", "C0FLEETB", "C0FLEETC"]


@pytest.fixture
def fleet(tmp_path):
    fleet = Fleet(tmp_path, env={"QUEUE_HEARTBEAT_SECONDS": "2", "DIGEST_LEASE_SECONDS": "3",
                                 "CLOCK_SWEEP_SECONDS": "1", "WORKERS": "4"})  # fmt: skip
    try:
        fleet.site.delay = 0.1  # pages take a while: the killed worker has jobs in flight
        fleet.start(web=2, workers=2, clocks=2)
        yield fleet
    finally:
        fleet.stop()


def test_kill_9_a_worker_and_a_clock_and_nothing_is_lost_or_doubled(fleet):
    seen = run_faults(fleet, SHARES, CHANNELS)
    assert seen["all_answered"], seen
    assert seen["jobs_rerun"] >= 1, seen  # the killed worker held jobs; they ran again
    assert seen["replies_per_share"] == {1: SHARES}, seen  # exactly one reply in each thread
    assert seen["stored_shares"] == SHARES + 3 * len(CHANNELS)  # every share saved (+ seeded)
    assert seen["killed_clock"] and seen["expected_parts"] == 4 * len(CHANNELS), seen
    assert seen["digest_parts"] == seen["expected_parts"] and seen["parts_posted_twice"] == 0
