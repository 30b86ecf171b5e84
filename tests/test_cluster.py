"""Near-duplicate story clustering: same event from several outlets together, others apart."""

from __future__ import annotations

import itertools
import math
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digests import cluster as cl
from digests.cluster import cluster_items, normalize_url, tokens
from digests.models import SharedItem

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def item(key: str, title: str, *summary: str, url: str | None = None) -> SharedItem:
    return SharedItem(
        key=key, title=title, summary=list(summary), topics=[], shared_at=0.0, url=url
    )


# Short texts written for these tests: one invented event told by three outlets, a follow-up on
# the same subject a week later (a different event), and unrelated news.
PORT_FEES = [
    item(
        "reuters",
        "US to charge port fees on Chinese-built cargo ships from October",
        "The US Trade Representative said on Thursday it will charge port fees of $50 per net ton "
        "on Chinese-built cargo ships docking at American ports from October 14.",
        "The Section 301 action follows a year-long probe into Chinese shipbuilding dominance.",
    ),
    item(
        "ft",
        "Washington slaps docking fees on China-built vessels in shipbuilding probe",
        "American ports will charge Chinese-built cargo ships $50 per net ton from October 14, "
        "the US Trade Representative announced Thursday.",
        "The fees conclude a Section 301 investigation of Chinese shipbuilding.",
    ),
    item(
        "blog",
        "USTR port fees on Chinese ships: what shippers need to know",
        "From October 14, cargo ships built in China will pay port fees of $50 per net ton at "
        "US ports under the Section 301 shipbuilding action announced on Thursday.",
    ),
]
OTHERS = [
    item(
        "follow-up",
        "China retaliates with its own port fees on US-linked vessels",
        "Beijing said a week later it will levy special port charges on ships owned or operated "
        "by American companies, in response to Washington's fees.",
        "The Ministry of Transport said the charges take effect immediately.",
    ),
    item(
        "football",
        "Fulham snatch late winner against Southampton",
        "A header in the 88th minute gave Fulham a 2-1 win over Southampton at Craven Cottage.",
    ),
    item(
        "drills",
        "PLA holds three-day drills around Taiwan",
        "China's military began three days of exercises around Taiwan on Saturday, with warships "
        "and fighter jets simulating strikes.",
    ),
]


THURSDAY = 1_744_900_000.0
for _n, _it in enumerate(PORT_FEES):
    _it.published = THURSDAY + _n * 3600.0
OTHERS[0].published = THURSDAY + 7 * 86400.0


def as_sets(groups: list[list[int]]) -> set[frozenset[int]]:
    return {frozenset(g) for g in groups}


def test_same_story_from_different_outlets_is_one_group() -> None:
    groups = cluster_items(PORT_FEES + OTHERS)
    assert frozenset({0, 1, 2}) in as_sets(groups)


def test_different_stories_stay_apart_even_on_the_same_subject() -> None:
    groups = cluster_items(PORT_FEES + OTHERS)
    assert as_sets(groups) == {frozenset({0, 1, 2}), frozenset({3}), frozenset({4}), frozenset({5})}


def test_every_index_once_sorted_and_empty_input() -> None:
    groups = cluster_items(OTHERS + PORT_FEES)
    flat = [i for g in groups for i in g]
    assert sorted(flat) == list(range(6))
    assert all(g == sorted(g) for g in groups)
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)
    assert cluster_items([]) == []


def test_follow_up_a_week_later_stays_apart_by_publication_date() -> None:
    week = 7 * 86400.0
    first = item("a", *_RULE, url="https://a.example/news/rule")
    again = item("b", *_RULE_OTHER_OUTLET, url="https://b.example/x")
    assert cluster_items([first, again]) == [[0, 1]]  # same day: one story
    first.published, again.published = 1_744_000_000.0, 1_744_000_000.0 + 2 * 86400
    assert cluster_items([first, again]) == [[0, 1]]  # two days apart: still one story
    again.published = first.published + week
    assert cluster_items([first, again]) == [[0], [1]]  # a week later: a follow-up
    # ...of the same storyline, which "still developing" (digests.changes) looks for.
    assert cluster_items([first, again], max_gap_days=math.inf) == [[0, 1]]


def test_without_publication_dates_share_times_or_url_dates_tell_time() -> None:
    week = 7 * 86400.0
    first = item("a", *_RULE, url="https://a.example/news/rule")
    later = item("b", *_RULE_OTHER_OUTLET, url="https://b.example/x")
    later.shared_at = first.shared_at + week
    assert cluster_items([first, later]) == [[0], [1]]
    dated = item("c", *_RULE, url="https://c.example/2025/04/16/rule")
    dated_later = item("d", *_RULE_OTHER_OUTLET, url="https://d.example/news/20250424/rule")
    assert cluster_items([dated, dated_later]) == [[0], [1]]
    assert cl.published_at(dated) == datetime(2025, 4, 16, 12, tzinfo=UTC).timestamp()
    assert cl.published_at(item("e", "x", url="https://e.example/2025/13/40/x")) is None


_RULE = (
    "Nvidia needs a licence to ship H20 chips to China, Commerce says",
    "The Commerce Department told Nvidia it will need a licence to export its H20 artificial "
    "intelligence chips to China, the company said in a filing on Tuesday.",
)
_RULE_OTHER_OUTLET = (
    "US curbs Nvidia H20 chip exports to China with new licence rule",
    "Nvidia said on Tuesday the US government will require a licence for exports of its H20 "
    "chips to China, after the Commerce Department notified the company.",
)


def test_one_outlets_boilerplate_does_not_merge_its_different_announcements() -> None:
    boiler = (
        "Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) "
        "sanctioned {what}."
    )
    close = (
        "Treasury will keep using every tool it has to disrupt {goal}, the Under Secretary said."
    )
    drones = item(
        "t1",
        "Treasury Sanctions Network Supplying Iran's Drone Program",
        boiler.format(what="six entities in Iran and China that buy engines for Shahed drones"),
        close.format(goal="Iran's weapons procurement"),
        url="https://home.treasury.gov/news/press-releases/sb0101",
    )
    refinery = item(
        "t2",
        "Treasury Sanctions Chinese Refinery Purchasing Iranian Oil",
        boiler.format(what="a Shandong teapot refinery that processed Iranian crude oil"),
        close.format(goal="Iran's oil revenue"),
        url="https://home.treasury.gov/news/press-releases/sb0102",
    )
    assert cluster_items([drones, refinery]) == [[0], [1]]
    # The same release republished by its outlet under a new URL is still one story.
    update = item("t3", drones.title, *drones.summary, url=drones.url + "-updated")
    assert cluster_items([drones, refinery, update]) == [[0, 2], [1]]


def test_headlines_with_different_figures_are_different_facts() -> None:
    body = "The Commerce Department added Chinese chip and AI companies to the Entity List."
    first = item("a", "US adds 12 Chinese firms to Entity List", body, url="https://a.example/1")
    second = item("b", "US adds 27 Chinese firms to Entity List", body, url="https://b.example/2")
    same = item(
        "c", "Commerce puts 12 Chinese companies on Entity List", body, url="https://c.example"
    )
    assert cluster_items([first, second]) == [[0], [1]]
    assert cluster_items([first, same]) == [[0, 1]]


def test_identical_keys_and_urls_are_always_together() -> None:
    items = [
        item("k1", "Tariff truce agreed in Geneva", url="https://www.example.com/a/?utm_source=x"),
        item("k2", "Completely different words here", url="https://example.com/a"),
        item("k1", "Football results from the weekend"),
        item("k3", "Unrelated chips story", url="https://other.org/b"),
    ]
    assert as_sets(cluster_items(items)) == {frozenset({0, 1, 2}), frozenset({3})}


def test_normalize_url_and_tokens() -> None:
    assert normalize_url("https://WWW.Example.com/x/?utm_medium=a&id=3#top") == "example.com/x?id=3"
    assert normalize_url(None) is None
    toks = tokens("U.S. sanctions on Nvidia's H20 chips: 45.3% and 1,000 firms")
    assert toks == ["usa", "sanction", "nvidia", "h20", "chip", "45.3", "1000", "firm"]


def test_candidates_come_from_rare_features_not_all_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    vocab = [f"w{i}x" for i in range(20_000)]
    common = ["china", "trade", "policy", "export", "tariff"]
    items = [
        item(str(i), " ".join(common + rng.sample(vocab, 8)), " ".join(rng.sample(vocab, 25)))
        for i in range(800)
    ]
    calls = 0
    real_dot = cl._dot

    def counting(a, b):
        nonlocal calls
        calls += 1
        return real_dot(a, b)

    monkeypatch.setattr(cl, "_dot", counting)
    groups = cluster_items(items)
    assert len(groups) == 800  # nothing merged on common words alone
    assert calls < 800 * 799 / 2 / 10  # far fewer comparisons than all pairs


def test_pruned_search_finds_exactly_the_brute_force_pairs() -> None:
    # Groups of paraphrases over a vocabulary where no word is common enough to hit the cap:
    # prefix filtering and bound pruning must then lose no pair that reaches the threshold.
    rng = random.Random(3)
    vocab = [f"v{i}q" for i in range(3000)]
    items = []
    for g in range(40):
        core = rng.sample(vocab, 10)
        for k in range(rng.randint(1, 3)):
            words = rng.sample(core, rng.randint(4, 10)) + rng.sample(vocab, rng.randint(3, 25))
            rng.shuffle(words)
            items.append(item(f"{g}-{k}", " ".join(words[:6]), " ".join(words[6:]) + "."))
    vectors, df = cl._unit_vectors([cl.features(i.title, i.summary) for i in items])
    assert max(df.values()) <= cl.rare_df_limit(len(items))
    for threshold in (0.05, 0.1, 0.16, 0.22):
        found = {(i, j) for _s, i, j in cl.similarity_pairs(vectors, df, threshold)}
        brute = {
            (i, j)
            for i, j in itertools.combinations(range(len(items)), 2)
            if cl._dot(vectors[i], vectors[j]) >= threshold
        }
        assert found == brute and brute


# -- measured on the development set ----------------------------------------------------------------

needs_eval = pytest.mark.skipif(
    not (EVAL / "topics_policy.jsonl").exists(), reason="../shared/eval missing"
)


@needs_eval
def test_held_out_precision_and_recall_on_event_clusters() -> None:
    # The benchmark's grouped cross-validation, one deal (bench/quality_clusters.py runs them
    # all): thresholds tuned on other events. One deal is a third of the suite's CPU for it.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import quality_clusters

    figures = quality_clusters.cross_validate(*quality_clusters.load_items(EVAL), repeats=1)
    assert figures["held_out"]["precision"] >= 0.95
    assert figures["held_out"]["recall"] >= 0.8
