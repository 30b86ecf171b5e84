"""Near-duplicate story clustering: the same event reported by several outlets is one story.

Why this shape:

* Items are compared on title + summary as sets of stemmed words and word bigrams (bigrams keep
  "salt typhoon" or "export control" from matching on one common word), weighted by sqrt(IDF)
  over the batch and compared by cosine. IDF comes from the batch itself (plus a small prior, so
  a quiet week of three shares still has usable weights), so words every item of a channel's
  week shares ("china", "tariff") weigh little and the ones that name an event ("tiktok",
  "tengyue", "h20") weigh more. Numbers are kept: "20 defense firms", "45.3%" and
  "90 days" tell reports of one event from a similar event years earlier. Presence beat term
  counts, and sqrt(IDF) beat full IDF, at ranking labelled same-event pairs (average precision
  0.93-0.99 against 0.89-0.96 for sublinear TF-IDF of unigrams, 2-5 sentence summaries).
* Candidate pairs come from an inverted index with prefix filtering (:func:`similarity_pairs`):
  frequent words never get long posting lists, and nearly every candidate is discarded by a
  bound before its exact cosine is computed. Work grows far slower than n².
* Groups merge by average link: two groups join only when the mean cosine over all their cross
  pairs reaches the threshold (computed exactly from summed unit vectors). Single link would
  chain "FBI seeks Salt Typhoon tips" to "FBI reveals Salt Typhoon scope" through a third
  article; merging two different stories is worse than showing one twice.
* Items with the same ``key`` or the same normalized URL are always one group, whatever the text.
  Two vetoes guard precision (:func:`_compatible`): headlines stating different figures and none
  in common are different facts, and two articles from the same outlet (URL host) need a much
  higher similarity (``SAME_OUTLET_THRESHOLD``), since one publisher's boilerplate (Treasury's
  "Today, OFAC sanctioned ...") makes its different announcements of a week look alike. Neither
  vetoed a true pair of the development set.

* Time proximity: reports of one event come out within days. Two items published more than
  ``MAX_GAP_DAYS`` apart (publication dates, or dates in their URL paths; else share times) join
  only when nearly the same text, so the same subject a week later stays a separate story.

``DEFAULT_THRESHOLD`` comes from grouped cross-validation on labelled same-event articles of
US-China policy news (bench/quality_clusters.py: folds by event; on the training folds, as
batches of every size from 2 articles to a whole fold, the threshold with the best recall at
precision >= 0.95; 0.14 is that choice on all events). Its held-out figures are in the README.
Small batches are the hard case: with two to six shares the batch IDF knows nothing about which
words are common, so a lower threshold merges different events on one subject there.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from digests.models import SharedItem
from digests.urls import canonical_url

DEFAULT_THRESHOLD = 0.14
SAME_OUTLET_THRESHOLD = 0.65
# Reports of one event appear within a few days; beyond that, only near-copies
# (SAME_OUTLET_THRESHOLD) join.
MAX_GAP_DAYS = 3.0
BACKGROUND_DOCS = 100
BACKGROUND_DF = 2.0
MIN_RARE_DF = 12
PREFIX_SHARE = 0.5  # measured: 0.5 scored ~100x fewer candidates than 1.0, 0.3 cost more

_STOP_TEXT = """
    a about above after again against all also although am an and any are aren't around as at
    be because been before being below between both but by can could did do does doing down
    during each either else ever every few for from further had has have having he her here
    hers herself him himself his how however i if in into is it its itself just least less
    like made make makes many may me might more most much must my myself near neither no nor
    not now of off on once one only or other others our ours ourselves out over own per same
    several she should since so some still such than that the their theirs them themselves
    then there these they this those though through to too toward towards under until up upon
    us very via was we were what when where whether which while who whom whose why will with
    within without would yet you your yours yourself said say says saying told according
    report reports reported reporting news article read more click subscribe newsletter
    advertisement image photo video listen post featured share shares comment comments
    copyright rights reserved updated published date min mr ms mrs dr
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
# Words, numbers ("45.3", "1,000") and model names ("h20", "a100") as single tokens.
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[.,]\d+)*")
# Spellings of a few country names, so "U.S." and "US" and "United States" are one token.
# "US"/"USA" in capitals is the country; "us" in lower case is the pronoun.
_COUNTRY_CASED = re.compile(r"\bU\.?S\.?A?\b\.?")
_COUNTRY = (
    (re.compile(r"\bunited states\b"), " usa "),
    (re.compile(r"\bu\.k\."), " uk "),
    (re.compile(r"\be\.u\."), " eu "),
)
_STEM_CACHE: dict[str, str] = {}

Feature = str | int  # a word stem, or the hash of a stem bigram
Vector = dict[Feature, float]


def stem(word: str) -> str:
    """A light, deterministic suffix stripper (plurals, -ed, -ing): enough to match "sanctions",
    "sanctioned" and "sanctioning" without loading a stemmer library on the digest path."""
    cached = _STEM_CACHE.get(word)
    if cached is not None:
        return cached
    w = word
    if len(w) > 4 and w.endswith("ies") or len(w) > 4 and w.endswith("ied"):
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 2 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(_STEM_CACHE) < 200_000:
        _STEM_CACHE[word] = w
    return w


def tokens(text: str) -> list[str]:
    """Content-word stems of a text, in order (stop words and 1-letter words dropped)."""
    text = unicodedata.normalize("NFKC", text)
    if "US" in text or "U.S" in text:
        text = _COUNTRY_CASED.sub(" usa ", text)
    text = text.lower()
    if "’" in text or "‘" in text:
        text = text.replace("’", "'").replace("‘", "'")
    for needle, (pattern, repl) in zip(("united states", "u.k.", "e.u."), _COUNTRY, strict=True):
        if needle in text:
            text = pattern.sub(repl, text)
    text = text.replace("'s ", " ")
    out = []
    for raw in _TOKEN_RE.findall(text):
        if raw in STOP_WORDS or (len(raw) < 2 and not raw.isdigit()):
            continue
        out.append(raw.replace(",", "") if raw[0].isdigit() else stem(raw))
    return out


def features(title: str, summary: Iterable[str]) -> set[Feature]:
    """The set of content-word stems (str) and adjacent stem bigrams in title + summary.

    Presence, not counts: on labelled same-event pairs, binary features ranked pairs better than
    (sublinear) term frequencies, since outlets repeat their own pet words, not each other's.
    Bigrams are kept as ``hash((a, b))`` ints: most are unique to one item, and an int costs
    half a new string (only equality within one process matters).
    """
    feats: set[Feature] = set()
    for part in (title, *summary):
        toks = tokens(part)
        feats.update(toks)
        feats.update(map(hash, zip(toks, toks[1:], strict=False)))
    return feats


def normalize_url(url: str | None) -> str | None:
    """The canonical URL (``digests.urls``: one tracking-parameter list) without scheme, "www."
    or a trailing slash, so http/https and www spellings of one page compare equal."""
    if not url:
        return None
    try:
        parts = urlsplit(canonical_url(url))  # canonical_url never raises
    except ValueError:
        return url.strip().lower()
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "")


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra > rb:
                ra, rb = rb, ra
            self.parent[rb] = ra
        return ra


def _identity_groups(items: Sequence[SharedItem]) -> list[list[int]]:
    """Indices that must be one story: same key, or same normalized URL."""
    uf = _UnionFind(len(items))
    first_seen: dict[str, int] = {}
    for i, item in enumerate(items):
        for ident in (f"k:{item.key}", f"u:{normalize_url(item.url)}" if item.url else None):
            if ident is None:
                continue
            if ident in first_seen:
                uf.union(first_seen[ident], i)
            else:
                first_seen[ident] = i
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[uf.find(i)].append(i)
    return list(groups.values())


def _unit_vectors(feature_sets: list[set[Feature]]) -> tuple[list[Vector], dict[Feature, int]]:
    """Unit vectors weighting each present feature by sqrt(IDF) over the batch.

    Full IDF lets one rare shared word dominate; sqrt keeps channel-wide words ("china",
    "tariff") cheap without making an odd shared word decisive (measured: better pair ranking).
    The IDF counts ``BACKGROUND_DOCS`` imaginary extra articles holding each word
    ``BACKGROUND_DF`` times in all: a quiet channel's two shares say nothing about which words
    are common, and plain batch IDF then weighs every shared word down to nothing (pairwise
    recall 0.07-0.11 on two-item batches, against 0.70 with the prior and no loss of precision);
    in a big batch the prior fades.
    Features found in one item only count in its norm, then are dropped: they can never add to
    a dot product, and most bigrams are such. The sets are consumed (emptied) to save memory.
    """
    n = len(feature_sets)
    df: dict[Feature, int] = defaultdict(int)
    for feats in feature_sets:
        for f in feats:
            df[f] += 1
    total = n + BACKGROUND_DOCS + 1
    by_df = [0.0] + [math.sqrt(math.log(total / (d + BACKGROUND_DF))) for d in range(1, n + 1)]
    vectors: list[Vector] = []
    for k, feats in enumerate(feature_sets):
        weights = {f: by_df[df[f]] for f in feats}
        feature_sets[k] = set()
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if norm == 0:
            vectors.append({})
            continue
        unique = by_df[1]  # weights fall strictly with df, so this picks out df == 1
        vectors.append({f: w / norm for f, w in weights.items() if w != unique})
    return vectors, df


def _dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b[f] for f, w in a.items() if f in b)


def rare_df_limit(n: int) -> int:
    """Features in more items than this are never indexed: sqrt(n), at least ``MIN_RARE_DF``.

    A safety cap: prefix filtering already keeps most frequent words out of the index, but a
    batch of very short texts leaves little prefix budget, and a word in every item would then
    make the index scan quadratic."""
    return max(MIN_RARE_DF, math.isqrt(n))


def similarity_pairs(
    vectors: Sequence[Vector], df: dict[Feature, int], min_sim: float
) -> list[tuple[float, int, int]]:
    """Pairs (sim, i, j), i < j, with cosine ≥ ``min_sim``, best first.

    All-pairs search with prefix filtering (after Bayardo et al., "Scaling up all pairs
    similarity search", WWW 2007). Each vector keeps its most frequent features out of the
    inverted index while their largest possible contribution to any cosine stays below
    ``PREFIX_SHARE * min_sim``. Two vectors reaching ``min_sim`` must then meet in the index,
    with an indexed dot product above ``min_sim`` minus that bound, which prunes nearly every
    candidate before its exact cosine is computed; the long posting lists of frequent words are
    never built or scanned. One approximation, against pathological batches of very short
    texts: features in more than :func:`rare_df_limit` items are neither indexed nor counted in
    the bound, so a pair that resembles only through such common words is not proposed (it is
    not a near-duplicate by our definition anyway). Exact cosines include every feature.
    """
    cap = rare_df_limit(len(vectors))
    budget = PREFIX_SHARE * min_sim
    max_weight: dict[Feature, float] = {}
    for vec in vectors:
        for f, w in vec.items():
            if w > max_weight.get(f, 0.0):
                max_weight[f] = w
    index: dict[Feature, list[tuple[int, float]]] = defaultdict(list)
    prefixes: list[Vector] = []
    prefix_bound: list[float] = []
    pairs: list[tuple[float, int, int]] = []
    for i, vec in enumerate(vectors):
        # Query: earlier vectors sharing an indexed feature with this one.
        acc: dict[int, float] = {}
        get = acc.get
        for f, wi in vec.items():
            posting = index.get(f)
            if posting:
                for j, wj in posting:
                    acc[j] = get(j, 0.0) + wi * wj
        for j, indexed_dot in acc.items():
            if indexed_dot + prefix_bound[j] < min_sim:
                continue
            sim = indexed_dot + _dot(prefixes[j], vec)
            if sim >= min_sim:
                pairs.append((sim, j, i))
        # Index: the most frequent features go to the unindexed prefix while the budget lasts.
        prefix: Vector = {}
        bound = 0.0
        indexing = False
        for f in sorted(vec, key=df.__getitem__, reverse=True):
            w = vec[f]
            if df[f] > cap:
                prefix[f] = w
            elif not indexing and bound + w * max_weight[f] < budget:
                bound += w * max_weight[f]
                prefix[f] = w
            else:
                indexing = True
                index[f].append((i, w))
        prefixes.append(prefix)
        prefix_bound.append(bound)
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


# A publication date in a URL path: /2025/04/16/, /2025-04-16, /20250416/.
_URL_DATE = re.compile(
    r"/((?:19|20)\d\d)(?:[/-]?)(0[1-9]|1[0-2])(?:[/-]?)(0[1-9]|[12]\d|3[01])(?=[/_.-]|$)"
)
DAY = 86400.0


def parse_published(value: object) -> float | None:
    """An ISO-8601 date or time ("2025-04-16", "2025-04-16T09:30:00+00:00") as Unix seconds;
    a date alone is taken as noon UTC, a time without zone as UTC. None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(text) <= 10:
        parsed = parsed.replace(hour=12)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def published_at(item: SharedItem) -> float | None:
    """When the outlet published it: ``item.published``, else a date in its URL path."""
    if item.published is not None:
        return item.published
    if item.url:
        m = _URL_DATE.search(urlsplit(item.url.strip()).path)
        if m:
            try:
                day = datetime(int(m[1]), int(m[2]), int(m[3]), 12, tzinfo=UTC)
            except ValueError:
                return None
            return day.timestamp()
    return None


When = tuple[float | None, float]  # (published, shared_at)


def when(item: SharedItem) -> When:
    return published_at(item), item.shared_at


def gap_days(a: When, b: When) -> float:
    """Days between two items: publication dates when both are known, else share times."""
    if a[0] is not None and b[0] is not None:
        return abs(a[0] - b[0]) / DAY
    return abs(a[1] - b[1]) / DAY


def outlet_key(item: SharedItem) -> str | None:
    """Who published it: the URL's host without "www.", else the site name."""
    if item.url:
        host = (urlsplit(item.url.strip()).hostname or "").removeprefix("www.")
        if host:
            return host
    return item.site.strip().lower() if item.site and item.site.strip() else None


def title_figures(title: str) -> frozenset[str]:
    """The numbers a headline states ("80 firms", "45.3%", "90-day")."""
    return frozenset(t for t in tokens(title) if t[0].isdigit())


def _compatible(
    ma: list[int],
    mb: list[int],
    outlets: list[set[str]],
    figures: list[frozenset[str]],
    vectors: Sequence[Vector],
    times: Sequence[When],
    max_gap_days: float,
) -> bool:
    """Vetoes on top of the similarity, checked pairwise across two groups about to merge:

    * headlines that both state figures, none in common, report different facts ("US adds 12
      firms to Entity List" / "US adds 27 firms to Entity List", a week apart);
    * two articles from one outlet join only when nearly the same text (an update or a
      republished copy): an outlet's own boilerplate (a ministry's or Treasury's press-release
      wording) otherwise makes its different announcements of one week look alike;
    * two articles more than ``MAX_GAP_DAYS`` apart join only when nearly the same text: the
      same subject a week later is a follow-up (Nvidia's H20 reprieve, then its licence rule),
      a new story for the reader.
    """
    for i in ma:
        for j in mb:
            if figures[i] and figures[j] and not figures[i] & figures[j]:
                return False
            strict = outlets[i] & outlets[j] or gap_days(times[i], times[j]) > max_gap_days
            if strict and _dot(vectors[i], vectors[j]) < SAME_OUTLET_THRESHOLD:
                return False
    return True


def cluster_items(
    items: Sequence[SharedItem],
    threshold: float = DEFAULT_THRESHOLD,
    max_gap_days: float = MAX_GAP_DAYS,
) -> list[list[int]]:
    """Group indices of ``items`` that report the same story.

    Every index appears in exactly one group; groups are sorted by their first index, and each
    group's indices ascend. Items sharing a key or normalized URL are always together.
    ``max_gap_days=math.inf`` groups a storyline across periods (a follow-up with its story).
    """
    if not items:
        return []
    units = _identity_groups(items)
    # One text per unit: the member with the most words stands for it.
    feature_sets = [
        features(
            *max(
                ((items[i].title, items[i].summary) for i in unit),
                key=lambda ts: len(ts[0]) + sum(len(s) for s in ts[1]),
            )
        )
        for unit in units
    ]
    vectors, df = _unit_vectors(feature_sets)
    pairs = similarity_pairs(vectors, df, threshold)

    # Greedy average link: sums of unit vectors give the mean cross-pair cosine exactly.
    unit_outlets = [{o for i in unit if (o := outlet_key(items[i]))} for unit in units]
    figures = [title_figures(items[unit[0]].title) for unit in units]
    times = [when(items[unit[0]]) for unit in units]
    uf = _UnionFind(len(units))
    sums: dict[int, Vector] = {}
    members: dict[int, list[int]] = {}
    sizes = [1] * len(units)
    for _sim, a, b in pairs:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        va, vb = sums.get(ra, vectors[ra]), sums.get(rb, vectors[rb])
        if _dot(va, vb) / (sizes[ra] * sizes[rb]) < threshold:
            continue
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        if not _compatible(ma, mb, unit_outlets, figures, vectors, times, max_gap_days):
            continue
        merged = dict(va)
        for f, w in vb.items():
            merged[f] = merged.get(f, 0.0) + w
        root = uf.union(ra, rb)
        other = rb if root == ra else ra
        sizes[root] = sizes[ra] + sizes[rb]
        sums[root] = merged
        members[root] = ma + mb
        sums.pop(other, None)
        members.pop(other, None)

    groups: dict[int, list[int]] = defaultdict(list)
    for u, unit in enumerate(units):
        groups[uf.find(u)].extend(unit)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])
