"""Behaviour of the taxonomy loader and the topic tagger (the digests/topics package).

Texts here are short ones written for the tests; the dev data is read from ../shared/eval only
by the evaluation test at the end, which is skipped when that directory is absent.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from digests.models import TopicTag
from digests.topics import DEFAULT_TAXONOMY_PATH, Taxonomy, default_taxonomy, tag_article

TOPIC_IDS = [
    "trade",
    "tariffs",
    "export_controls",
    "sanctions",
    "fentanyl",
    "taiwan",
    "industrial_policy",
    "investment_restrictions",
    "tech",
    "diplomacy",
    "security",
]

EXPORT_CONTROLS = (
    "The Commerce Department on Tuesday added 12 Chinese companies to the Entity List, "
    "cutting them off from American chips without a license. Officials said the firms had "
    "helped the Chinese military obtain advanced semiconductors. The rule also tightens "
    "licensing requirements for exports of chipmaking equipment."
)

SPORTS_TRADE = (
    "The Lakers traded guard Marcus Bell to Denver minutes before the trade deadline on "
    "Thursday, ending weeks of trade rumors. The deal sends Bell and two second-round picks "
    "to the Nuggets for a backup center. Bell averaged 14 points a game this season, and the "
    "front office said the move frees room under the salary cap for free agency this summer."
)


def tags_by_id(tags: list[TopicTag]) -> dict[str, TopicTag]:
    return {t.topic: t for t in tags}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the taxonomy


def test_default_taxonomy_has_the_contract_ids_in_order_with_labels():
    tax = Taxonomy.load()
    assert tax.ids() == TOPIC_IDS
    assert list(tax.topics) == TOPIC_IDS
    assert tax.label("export_controls") == "Export controls"
    assert all(tax.label(t) and tax.label(t) != t for t in TOPIC_IDS if t != "taiwan")
    assert tax.label("no_such_topic") == "no_such_topic"  # old data must still render


def test_default_is_loaded_once_and_equals_explicit_path():
    assert default_taxonomy() is default_taxonomy()
    assert Taxonomy.load(DEFAULT_TAXONOMY_PATH).ids() == Taxonomy.load(None).ids()


def test_taxonomy_is_immutable():
    tax = Taxonomy.load()
    with pytest.raises(AttributeError):
        tax._topics = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        tax.topics["trade"] = tax.topics["tariffs"]  # type: ignore[index]


def test_phrases_are_the_literal_bonus_words():
    phrases = Taxonomy.load().phrases()
    assert "entity list" in phrases and "fentanyl" in phrases
    assert len(phrases) == len(set(phrases))
    assert not any("*" in p for p in phrases)
    assert "trade deadline" not in phrases  # negatives are not bonus words


# --------------------------------------------------------------------------- tagging


def test_export_controls_paragraph_is_tagged_with_matched_text_as_evidence():
    tags = tag_article("US adds Chinese firms to trade blacklist", EXPORT_CONTROLS)
    assert tags[0].topic == "export_controls"
    assert tags[0].label == "Export controls"
    assert "Entity List" in tags[0].evidence  # as written in the article, not lower-cased
    assert "tech" in tags_by_id(tags)


def test_tags_are_sorted_scored_and_carry_bounded_distinct_evidence():
    tags = tag_article("US adds Chinese firms to trade blacklist", EXPORT_CONTROLS)
    scores = [t.score for t in tags]
    assert scores == sorted(scores, reverse=True)
    for tag in tags:
        assert 0 < tag.score <= 1
        assert 1 <= len(tag.evidence) <= 5
        assert len({e.lower() for e in tag.evidence}) == len(tag.evidence)


def test_sports_trade_deadline_story_gets_no_trade_tag():
    tags = tag_article("Lakers send Bell to Denver at the deadline", SPORTS_TRADE)
    assert "trade" not in tags_by_id(tags)
    assert tags == []


def test_sports_story_mentioning_sanctions_gets_no_tags():
    text = (
        "The Premier League charged the club with breaching its spending rules. If found "
        "guilty it faces sporting sanctions, including a points deduction, and the head coach "
        "said the squad would focus on the Champions League."
    )
    assert tag_article("Club faces sanctions over spending", text) == []


def test_off_topic_context_lowers_every_topic():
    data = {
        "off_topic": {"phrases": {"box office": 2.0}},
        "topics": {
            "trade": {"label": "Trade", "phrases": {"tariff*": 3.0}},
            "tech": {"label": "Tech", "phrases": {"chips": 3.0}},
        },
    }
    tax = Taxonomy.from_dict(data)
    text = "Tariffs on chips rose."
    plain = {t.topic: t.score for t in tag_article("", text, tax)}
    film = {t.topic: t.score for t in tag_article("", f"{text} The box office slumped.", tax)}
    assert set(plain) == {"trade", "tech"}
    assert all(film.get(t, 0) < plain[t] for t in plain)
    assert tax.off_topic[0].negative and tax.off_topic[0].text == "box office"
    assert tax.with_phrases({"trade": ["quota"]}).off_topic == tax.off_topic


def test_off_topic_text_gets_no_tags():
    text = (
        "Astronomers have found a rocky planet orbiting a nearby red dwarf. The team measured "
        "its mass with a spectrograph and says the planet may hold a thin atmosphere. Further "
        "observations with the new telescope are planned for next year."
    )
    assert tag_article("A nearby rocky world", text) == []
    assert tag_article("", "") == []


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("security", "Retirees will see a bigger Social Security check next year, officials said."),
        ("tech", "The cafe sells potato chips, chocolate chip cookies and fish and chips."),
        ("tech", "Both sides treated the hostages as a bargaining chip in the talks."),
        ("sanctions", "The marathon is a sanctioned event and the sanctioning body set rules."),
        ("tariffs", "Households will pay a higher electricity tariff from April."),
        ("trade", "The union held its annual trade show and a trade union rally."),
    ],
)
def test_negative_cues_suppress_ambiguous_words(topic, text):
    assert topic not in tags_by_id(tag_article("", text))


def test_the_same_words_do_tag_in_their_policy_sense():
    assert "security" in tags_by_id(
        tag_article("", "Officials cited national security risks posed by the hackers.")
    )
    assert "tech" in tags_by_id(
        tag_article("", "Nvidia said exports of its AI chips to China need new licences.")
    )
    assert "sanctions" in tags_by_id(
        tag_article("", "Treasury imposed sanctions on three refineries, freezing their assets.")
    )


WIDGETS = Taxonomy.from_dict(
    {
        "params": {"title_weight": 2.0, "lead_weight": 1.5, "min_score": 0.4},
        "topics": {"widgets": {"label": "Widgets", "phrases": {"widget quota": 1.5}}},
    }
)
FILLER = " ".join(
    f"Paragraph {i} covers local weather and the school calendar in some detail." for i in range(30)
)


def test_title_and_lead_count_more_than_the_tail():
    """One weight-1.5 cue: enough in the title (x2) or the lead (x1.5), not in the tail (x1)."""
    cue = "Officials discussed the widget quota."
    in_title = tags_by_id(tag_article("Council debates widget quota", FILLER, WIDGETS))
    in_lead = tags_by_id(tag_article("Council meets", f"{cue} {FILLER}", WIDGETS))
    in_tail = tags_by_id(tag_article("Council meets", f"{FILLER} {cue}", WIDGETS))
    assert in_title["widgets"].score > in_lead["widgets"].score
    assert "widgets" not in in_tail
    assert in_title["widgets"].evidence == ["widget quota"]


def test_default_taxonomy_weighs_the_title_too():
    mention = "Negotiators also discussed tariffs."
    tail = tags_by_id(tag_article("City council meets", f"{FILLER} {mention}"))
    title = tags_by_id(tag_article("City council meets on tariffs", f"{FILLER} {mention}"))
    assert title["tariffs"].score > tail.get("tariffs", TopicTag("", "", 0.0)).score


def test_a_title_repeated_at_the_top_of_the_text_counts_once():
    title = "Beijing imposes tariffs on US farm goods"
    body = "China raised duties on soybeans and pork after talks stalled."
    once = tags_by_id(tag_article(title, body))
    repeated = tags_by_id(tag_article(title, f"{title}\n\n{body}"))
    assert repeated["tariffs"].score == pytest.approx(once["tariffs"].score)


def test_repetition_is_capped():
    base = "The government said it would review the tariffs. "
    few = tags_by_id(tag_article("", base * 4))["tariffs"].score
    many = tags_by_id(tag_article("", base * 60))["tariffs"].score
    assert many == pytest.approx(few)
    assert many < 1


def test_phrases_tolerate_hyphens_spacing_and_line_breaks():
    for text in (
        "The EU imposed antidumping duties on steel.",
        "The EU imposed anti-dumping duties on steel.",
        "The EU imposed anti dumping duties on steel.",
        "The EU imposed anti-\ndumping duties on steel.",
    ):
        assert "tariffs" in tags_by_id(tag_article("EU probe", text)), text
    wrapped = "Officials warned that the trade\nwar would widen."
    assert "trade war" in tags_by_id(tag_article("", wrapped))["trade"].evidence[0].lower()


def test_patterns_match_section_numbers_and_case_sensitive_acronyms():
    tags = tags_by_id(tag_article("USTR opens Section 301 probe", "The inquiry covers chips."))
    assert "Section 301" in tags["tariffs"].evidence
    ear = tags_by_id(tag_article("", "BIS updated the EAR and the entity list on Friday."))
    assert {"BIS", "EAR"} <= set(ear["export_controls"].evidence)
    # lower-case "bis" and "ear" are ordinary words, not the agency or the regulations
    assert "export_controls" not in tags_by_id(tag_article("", "Bis said the ear was fine."))


def test_word_index_finds_everything_a_full_scan_finds():
    """The matcher only tries cues where an article word can start them; prove none is lost."""
    import re

    from digests.topics.matcher import phrase_regex

    tax = Taxonomy.load()
    matcher = tax.matcher
    texts = [
        EXPORT_CONTROLS,
        SPORTS_TRADE,
        "U.S.-China relations: the USTR's Section 301 tariffs, 25% duties and anti-\ndumping "
        "probes; PLA drills near Taiwan; H20 and A100 chips; AI, BIS and EAR rules; OFAC's "
        "SDN list; People\u2019s Liberation Army; CHIPS Act subsidies; CFIUS reviews.",
        "TRADE BILL WOULD CURB IMPORTS, YEUTTER SAYS\nThe U.S. trade\ndeficit widened as "
        "Japan's exports rose 12 pct; Washington may impose 100 pct tariffs.",
    ]
    found_in = [matcher.find(text) for text in texts]
    for index, entry in enumerate(matcher.entries):
        body = entry.cue.text if entry.cue.regex else phrase_regex(entry.cue.text)
        scan = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)
        for text, found in zip(texts, found_in, strict=True):
            for m in scan.finditer(text):
                # the index may return a longer phrase of the same topic at the same place
                assert any(
                    matcher.entries[j].topic == entry.topic and s == m.start() and e >= m.end()
                    for j, s, e in found
                ), (entry.cue.text, m.group(), index)


def test_long_articles_tag():
    """Tagging a ~4,500-word article works (its speed is measured in bench/, not asserted here)."""
    sentences = [
        f"In round {i}, officials from both countries discussed tariffs, export controls on "
        f"chips, and the security of supply chains, while markets watched closely."
        for i in range(200)
    ]
    text = " ".join(sentences)
    assert len(text.split()) >= 4500
    tax = Taxonomy.load()
    tags = tag_article("Officials meet", text, tax)
    assert tags


# --------------------------------------------------------------------------- team phrases


def test_with_phrases_creates_a_team_topic_labelled_with_its_id():
    base = Taxonomy.load()
    team = base.with_phrases({"rare_earths": ["rare earth magnets", "neodymium"]})
    assert team.ids() == [*TOPIC_IDS, "rare_earths"]
    assert team.label("rare_earths") == "rare_earths"
    tags = tags_by_id(tag_article("Neodymium supplies tighten", "Prices jumped.", team))
    assert tags["rare_earths"].evidence == ["Neodymium"]
    assert "rare_earths" not in base.ids()  # the original is untouched
    assert "neodymium" in team.phrases()


def test_with_phrases_extends_an_existing_topic_and_is_cached():
    base = Taxonomy.load()
    text = "The ministry announced a new whitelist for gallium exporters."
    assert "export_controls" not in tags_by_id(tag_article("", text, base))
    team = base.with_phrases({"export_controls": ['"whitelist for gallium"']})
    assert (
        "whitelist for gallium"
        in tags_by_id(tag_article("", text, team))["export_controls"].evidence
    )
    assert base.with_phrases({"export_controls": ["whitelist for gallium"]}) is team


@pytest.mark.parametrize(
    "extra",
    [{"Bad Id": ["x"]}, {"ok_id": [""]}, {"ok_id": []}, {"ok_id": ["a*b"]}],
)
def test_with_phrases_rejects_bad_input(extra):
    with pytest.raises(ValueError):
        Taxonomy.load().with_phrases(extra)


# --------------------------------------------------------------------------- invalid files

MINIMAL = """
[topics.trade]
label = "Trade"
phrases = ["trade war"]
"""


def test_a_minimal_file_with_list_phrases_loads(tmp_path):
    tax = Taxonomy.load(write(tmp_path, MINIMAL))
    assert tax.ids() == ["trade"]
    assert tag_article("Trade war looms", "A trade war looms.", tax)[0].topic == "trade"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[topics.trade\nlabel = 1", "invalid TOML"),
        ("version = 1\n", "missing [topics"),
        (MINIMAL.replace("phrases =", "phrase ="), "unknown key(s) phrase"),
        (MINIMAL + "[topics.trade.patterns]\n'section (301' = 2.0\n", "'section (301'"),
        (MINIMAL + "[topics.trade.patterns]\n'(?P<n>x)' = 2.0\n", "named groups"),
        (MINIMAL + "[topics.trade.patterns]\n'x?' = 2.0\n", "matches empty text"),
        (MINIMAL.replace('["trade war"]', '{ "trade war" = -1 }'), "positive number"),
        (MINIMAL.replace('["trade war"]', '{ "trade war" = "high" }'), "positive number"),
        (MINIMAL.replace('["trade war"]', "[]"), "needs at least one entry"),
        (MINIMAL.replace('label = "Trade"', "label = 3"), "'label'"),
        (MINIMAL.replace("[topics.trade]", "[topics.Trade-Policy]"), "topic 'Trade-Policy'"),
        ("[params]\nmin_score = 2\n" + MINIMAL, "min_score"),
        ("[params]\nthreshold = 0.5\n" + MINIMAL, "unknown parameter 'threshold'"),
        ('colour = "red"\n' + MINIMAL, "unknown top-level key"),
        ("[off_topic]\nwords = []\n" + MINIMAL, "[off_topic]: unknown key(s) words"),
        ("[off_topic.patterns]\n'(oops' = 1.0\n" + MINIMAL, "[off_topic]: pattern '(oops'"),
    ],
)
def test_invalid_files_raise_value_error_naming_the_problem(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ValueError) as info:
        Taxonomy.load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_bad_pattern_error_names_topic_and_pattern(tmp_path):
    path = write(tmp_path, MINIMAL + "[topics.trade.patterns]\n'section (301' = 2.0\n")
    with pytest.raises(ValueError, match=r"topic 'trade': pattern 'section \(301'"):
        Taxonomy.load(path)


def test_a_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read taxonomy file"):
        Taxonomy.load(tmp_path / "nope.toml")


def test_negative_context_cues_lower_the_score_and_can_drop_the_tag():
    topic = {"label": "Widgets", "phrases": {"widget quota": 3.0}, "negative": {"toy shop": 1.5}}
    params = {"lead_weight": 1.5, "min_score": 0.4}
    tax = Taxonomy.from_dict({"params": params, "topics": {"widgets": topic}})
    alone = tag_article("", "The widget quota was raised.", tax)[0].score
    mixed = tag_article("", "The widget quota was raised. The toy shop reopened.", tax)[0].score
    assert mixed < alone
    assert tag_article("", "The toy shop's widget quota was raised at the toy shop.", tax) == []


def test_a_zero_weight_negative_masks_a_heavier_overlapping_positive_and_costs_nothing():
    security = {"label": "Security", "phrases": {"security": 3.0}}
    plain = Taxonomy.from_dict({"topics": {"security": security}})
    masked = Taxonomy.from_dict(
        {"topics": {"security": {**security, "negative": {"social security": 0}}}}
    )
    assert tag_article("", "Social Security checks rise.", plain)
    assert tag_article("", "Social Security checks rise.", masked) == []
    text = "Security forces were deployed. Social Security checks rise."
    only_first = tag_article("", "Security forces were deployed.", plain)[0].score
    assert tag_article("", text, masked)[0].score == pytest.approx(only_first)


# --------------------------------------------------------------------------- evidence


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        # a title is not evidence
        (
            "sanctions",
            "Treasury Secretary Scott Bessent said inflation was easing and yields fell.",
        ),
        ("sanctions", "The Treasury Department reported a wider deficit as receipts slowed."),
        # generic nouns are not evidence
        ("export_controls", "The city eased restrictions and parking controls downtown."),
        ("export_controls", "New restrictions on travel were lifted; border controls remain."),
        ("diplomacy", "Union leaders resumed talks with the carmaker on Monday."),
        ("fentanyl", "The vote was a precursor to a wider reform of the pension system."),
        # a program's name, not the verb phrase
        ("industrial_policy", "The firms can no longer buy American technology without a license."),
    ],
)
def test_a_title_or_a_generic_noun_alone_is_not_evidence(topic, text):
    assert topic not in tags_by_id(tag_article("", text))


def test_light_cues_add_to_an_anchor_but_are_never_shown_as_evidence():
    text = (
        "Treasury Secretary Scott Bessent said the Office of Foreign Assets Control had "
        "designated three Hong Kong firms. New restrictions and controls follow."
    )
    tags = tags_by_id(tag_article("Hong Kong firms designated", text))
    assert tags["sanctions"].evidence == ["Office of Foreign Assets Control"]
    alone = tags_by_id(tag_article("", "The Office of Foreign Assets Control acted."))
    assert tags["sanctions"].score > alone["sanctions"].score  # "designated" still counts


def test_generic_words_never_appear_as_evidence_even_beside_an_anchor():
    text = EXPORT_CONTROLS + " The Treasury Secretary held talks on restrictions and controls."
    generic = {"treasury secretary", "talks", "restrictions", "controls", "trade", "security"}
    tags = tag_article("Commerce adds firms to the Entity List", text)
    assert "export_controls" in tags_by_id(tags)
    for tag in tags:
        assert tag.evidence and not {e.lower() for e in tag.evidence} & generic, tag


def test_a_team_topic_of_plain_phrases_still_tags():
    team = Taxonomy.load().with_phrases({"ports": ["harbour dues"]})
    assert "ports" in tags_by_id(tag_article("", "Harbour dues rose again.", team))


# --------------------------------------------------------------------------- purity


def test_topics_package_imports_only_pure_modules():
    package = Path(__file__).resolve().parents[1] / "digests" / "topics"
    banned = {"slack_bolt", "slack_sdk", "redis", "apscheduler", "requests", "urllib3", "socket"}
    nodes = [
        node
        for source in package.glob("*.py")
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
    ]
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in banned, name


# --------------------------------------------------------------------------- dev-set quality

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _rows(name: str) -> list[dict]:
    path = EVAL_DIR / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _quality(rows: list[dict], tax: Taxonomy) -> dict:
    per_topic = {t: [0, 0, 0] for t in TOPIC_IDS}
    others_tagged = others = 0
    for row in rows:
        gold = set(row["labels"]) - {"other"}
        pred = {t.topic for t in tag_article(row["title"], row["text"], tax)}
        if "other" in row["labels"]:
            others += 1
            others_tagged += bool(pred)
        for t in TOPIC_IDS:
            per_topic[t][0] += t in pred and t in gold
            per_topic[t][1] += t in pred and t not in gold
            per_topic[t][2] += t in gold and t not in pred
    present = [c for c in per_topic.values() if c[0] + c[2]]
    return {
        "micro": _prf(*(sum(c[i] for c in per_topic.values()) for i in range(3))),
        "macro_f1": sum(_prf(*c)[2] for c in present) / len(present),
        "precision": {t: _prf(*c)[0] for t, c in per_topic.items()},
        "others": (others_tagged, others),
    }


@pytest.mark.parametrize(
    ("name", "floor"),
    [("topics_written.jsonl", 0.88), ("topics_written_b.jsonl", 0.80)],  # measured 0.93, 0.86
)
def test_quality_on_paragraphs_written_for_the_benchmark(name, floor):
    """Labels committed before the tagger ran on them (set B after the last vocabulary change);
    floors, not the targets: bench/quality_topics.py reports them with intervals."""
    path = Path(__file__).resolve().parents[1] / "bench" / "data" / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    q = _quality(rows, Taxonomy.load())
    assert q["macro_f1"] >= floor, q["macro_f1"]
    assert q["micro"][0] >= 0.90, q["micro"]  # measured P 0.98 and 0.95
    for topic in ("fentanyl", "sanctions", "export_controls", "taiwan"):  # targets 0.90
        assert q["precision"][topic] >= 0.85, (topic, q["precision"][topic])  # lowest 0.875
    assert q["others"][0] <= 1, q["others"]


def test_quality_on_policy_excerpts():
    """In-sample regression guard only (the numbers that count are the held-out folds of
    bench/quality_topics.py); floors sit a little below what the shipped file measures."""
    q = _quality(_rows("topics_policy.jsonl"), Taxonomy.load())
    assert q["micro"][0] >= 0.86, q["micro"]  # measured P 0.91
    assert q["micro"][1] >= 0.86, q["micro"]  # measured R 0.89
    assert q["macro_f1"] >= 0.88, q["macro_f1"]  # measured 0.91; keyword floor 0.86
    assert q["others"][1] and q["others"][0] == 0, q["others"]


def test_trade_quality_on_reuters_newswires():
    """In-sample regression guard, as above."""
    rows = _rows("topics_reuters.jsonl")
    tax = Taxonomy.load()
    tp = fp = fn = 0
    for row in rows:
        gold = "trade" in row["labels"]
        pred = any(t.topic == "trade" for t in tag_article(row["title"], row["text"], tax))
        tp += gold and pred
        fp += pred and not gold
        fn += gold and not pred
    precision, recall, f1 = _prf(tp, fp, fn)
    assert precision >= 0.86, precision  # measured 0.90; floor 0.74
    assert recall >= 0.92, recall  # measured 0.95; floor 0.93
    assert f1 >= 0.89, f1  # measured 0.925; floor 0.82
