"""The Redis store against a real server: caches expire, durable records don't, shares behave."""

from __future__ import annotations

import pytest

from bot.storage.store import DAY, Store, StoreError


@pytest.fixture
def store(redis_client) -> Store:
    return Store.for_team(redis_client, "T1")


def test_keys_are_workspace_scoped(store, redis_client):
    store.save_article("u1", {"title": "A"})
    store.add_share("C1", "u1", user="U1", message_ts="1.0")
    keys = set(redis_client.keys("*")) - {"pd:index:teams"}
    assert keys and all(k.startswith("pd:{T1}:") for k in keys)  # one Cluster hash tag
    assert redis_client.smembers("pd:index:teams") == {"T1"}


def test_caches_carry_ttls_and_durable_records_do_not(store, redis_client):
    store.cache_result("t1", "lexrank", 3, {"summary": ["x"]}, ttl=60)
    store.cache_page("u1", {"text": "x"}, ttl=60)
    assert store.first_delivery("Ev1")
    store.save_article("u1", {"title": "A"})
    store.add_share("C1", "u1", user="U1", message_ts="1.0", reply_ts="1.0")
    for key in redis_client.keys("*"):
        ttl = redis_client.ttl(key)
        if any(part in key for part in (":result:", ":page:", ":event:")):
            assert 0 < ttl <= 3600, key
        else:
            assert ttl == -1, key


def test_cached_result_round_trip_is_per_method_and_length(store):
    store.cache_result("t1", "lexrank", 3, {"summary": ["a"]}, ttl=60)
    assert store.cached_result("t1", "lexrank", 3) == {"summary": ["a"]}
    assert store.cached_result("t1", "lexrank", 4) is None
    assert store.cached_result("t1", "lead", 3) is None


def test_event_dedup_marks_first_delivery_only(store):
    assert store.first_delivery("Ev9") is True
    assert store.first_delivery("Ev9") is False


def test_share_twice_is_one_share_with_two_sharers(store):
    assert store.add_share("C1", "u1", user="U1", message_ts="1.0", reply_ts="1.0", now=100)
    assert not store.add_share("C1", "u1", user="U2", message_ts="2.0", reply_ts="2.0", now=200)
    share = store.get_share("C1", "u1")
    assert share.shared_at == 100
    assert share.reply_ts == "1.0"  # the first reply stays the article's thread
    assert share.users == ["U1", "U2"]
    assert store.get_share("C2", "u1") is None  # never visible from another channel


def test_deleting_a_message_removes_only_its_share(store):
    store.add_share("C1", "u1", user="U1", message_ts="1.0", now=100)
    store.add_share("C1", "u1", user="U2", message_ts="2.0", now=200)
    store.add_share("C1", "u2", user="U2", message_ts="2.0", now=200)
    assert store.remove_message("C1", "2.0") == ["u2"]
    assert store.get_share("C1", "u1").users == ["U1"]
    assert store.get_share("C1", "u2") is None
    assert store.remove_message("C1", "1.0") == ["u1"]
    assert store.get_share("C1", "u1") is None


def test_shares_between_is_a_half_open_window_newest_first(store):
    for i, ts in enumerate([100, 200, 300]):
        store.add_share("C1", f"u{i}", user="U1", message_ts=str(ts), now=ts)
    assert [s.akey for s in store.shares_between("C1", 100, 300)] == ["u1", "u0"]
    assert [s.akey for s in store.shares_between("C1", 0, 1000, limit=1)] == ["u2"]


def test_forget_removes_the_share_but_not_other_channels(store):
    store.add_share("C1", "u1", user="U1", message_ts="1.0")
    store.add_share("C2", "u1", user="U1", message_ts="5.0")
    assert store.forget("C1", "u1") is True
    assert store.forget("C1", "u1") is False
    assert store.get_share("C2", "u1") is not None


def test_prune_drops_records_older_than_retention(store):
    now = 1_000 * DAY
    store.save_article("old", {"title": "old"}, now=now - 200 * DAY)
    store.add_share("C1", "old", user="U1", message_ts="1.0", now=now - 200 * DAY)
    store.save_article("new", {"title": "new"}, now=now - DAY)
    store.add_share("C1", "new", user="U1", message_ts="2.0", now=now - DAY)
    assert store.prune(180, now=now) >= 2
    assert store.get_article("old") is None
    assert store.get_share("C1", "old") is None
    assert store.get_article("new") == {"title": "new"}
    assert store.get_share("C1", "new") is not None


def test_redis_down_raises_store_error_quickly(dead_redis):
    with pytest.raises(StoreError):
        Store.for_team(dead_redis, "T1").cached_result("t", "lead", 3)


def test_reactions_on_the_bots_reply_are_counted_for_that_share(store):
    store.add_share("C1", "u1", user="U1", message_ts="1.0", reply_ts="1.5", now=100)
    assert store.count_reaction("C1", "1.5", +1) and store.count_reaction("C1", "1.5", +1)
    assert store.count_reaction("C1", "1.5", -1)
    assert not store.count_reaction("C1", "9.9", +1)  # not one of our replies
    assert not store.count_reaction("C2", "1.5", +1)  # another channel's message
    assert store.get_share("C1", "u1").reactions == 1
    store.forget("C1", "u1")
    assert not store.count_reaction("C1", "1.5", +1)
