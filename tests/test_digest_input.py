"""``python -m bot digest --input FILE.jsonl``: a digest from a file, the whole pipeline without
Slack, run as a user runs it."""

from __future__ import annotations

import json

from tests.test_cli import run

PORT_FEES_A = (
    "The US Trade Representative said on Thursday it will charge port fees of $50 per net ton on "
    "Chinese-built cargo ships docking at American ports from October 14. The Section 301 action "
    "follows a year-long probe into Chinese shipbuilding dominance. Shipping companies warned "
    "that the fees would raise freight costs for American exporters. The agency softened an "
    "earlier proposal after industry hearings in March."
)
PORT_FEES_B = (
    "American ports will charge Chinese-built cargo ships $50 per net ton from October 14, the "
    "US Trade Representative announced Thursday. The fees conclude a Section 301 investigation "
    "of Chinese shipbuilding. Carriers said the port fees would be passed on to shippers. The "
    "trade representative said the measures aim to revive American shipbuilding."
)
DRILLS = (
    "China's military began three days of exercises around Taiwan on Saturday, with warships and "
    "fighter jets simulating strikes on the island. Taiwan's defence ministry said it had "
    "deployed its own forces to monitor the drills. Washington urged restraint and said it was "
    "watching closely. Analysts said the scale of the drills matched last year's."
)


def write_input(tmp_path, lines: list[object]):
    path = tmp_path / "articles.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_json_digest_merges_one_story_across_outlets_and_lists_its_items(tmp_path):
    path = write_input(
        tmp_path,
        [
            {"id": "r1", "text": PORT_FEES_A, "title": "US to charge port fees on Chinese ships",
             "url": "https://reuters.example/ports", "published": "2025-04-17"},
            {"id": "f1", "text": PORT_FEES_B, "url": "https://ft.example/ships",
             "published": "2025-04-17T15:00:00Z"},
            {"id": 7, "text": DRILLS, "title": "PLA holds drills around Taiwan",
             "url": "https://news.example/drills"},
            "{not json",
            {"id": "empty", "text": ""},
            {"id": "when", "text": DRILLS, "published": "last week"},
        ],
    )  # fmt: skip
    out = run(["digest", "--input", str(path), "--format", "json"])
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    stories = [story for section in data["sections"] for story in section["stories"]]
    assert data["total_stories"] == len(stories) == 2
    ports = next(s for s in stories if len(s["items"]) == 2)
    assert [i["id"] for i in ports["items"]] == ["r1", "f1"]
    first = ports["items"][0]
    assert first == {
        "id": "r1",
        "title": "US to charge port fees on Chinese ships",
        "url": "https://reuters.example/ports",
        "outlet": "reuters.example",
        "sharers": [],
    }
    assert ports["items"][1]["outlet"] == "ft.example" and ports["items"][1]["title"]
    drills = next(s for s in stories if s is not ports)
    assert drills["items"][0]["id"] == "7"  # ids are given back as text
    # Bad lines are reported like summarize --jsonl errors, in the JSON and on stderr.
    codes = {e["code"] for e in data["errors"]}
    assert codes == {"bad_json", "empty", "bad_option"}
    assert {e["id"] for e in data["errors"]} == {4, "empty", "when"}
    reported = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert reported == data["errors"]


def test_markdown_and_blocks_formats(tmp_path):
    path = write_input(
        tmp_path,
        [
            {"id": "a", "text": PORT_FEES_A, "url": "https://reuters.example/ports"},
            {"id": "b", "text": DRILLS},
        ],
    )
    md = run(["digest", "--input", str(path)])
    assert md.returncode == 0, md.stderr
    assert "port fees" in md.stdout.lower() and "Taiwan" in md.stdout
    blocks = run(["digest", "--input", str(path), "--format", "blocks"])
    parts = json.loads(blocks.stdout)
    assert parts and all(part["blocks"] and part["text"] for part in parts)


def test_follow_up_a_week_later_is_its_own_story(tmp_path):
    path = write_input(
        tmp_path,
        [
            {"id": "a", "text": PORT_FEES_A, "published": "2025-04-10"},
            {"id": "b", "text": PORT_FEES_B, "published": "2025-04-17"},
        ],
    )
    data = json.loads(run(["digest", "--input", str(path), "--format", "json"]).stdout)
    assert data["total_stories"] == 2


def test_missing_file_and_nothing_usable_exit_2(tmp_path):
    out = run(["digest", "--input", str(tmp_path / "nope.jsonl")])
    assert out.returncode == 2 and "No such file" in out.stderr
    path = write_input(tmp_path, ["[1, 2]", {"id": "x"}])
    out = run(["digest", "--input", str(path)])
    assert out.returncode == 2 and "No line" in out.stderr and "Traceback" not in out.stderr
    out = run(["digest"])
    assert out.returncode == 2 and "--input" in out.stderr


def test_titles_and_gists_of_pasted_texts_skip_stamps_and_bullets(tmp_path):
    path = write_input(
        tmp_path,
        [
            {"id": "a", "text": f"Published • 10 April 2025 at 5:34 PM\nUS sets port fees\n{PORT_FEES_A}"},
            {"id": "b", "text": f"• Taiwan\n• Drills\ndate 2025-04-10 {DRILLS}"},
        ],
    )  # fmt: skip
    data = json.loads(run(["digest", "--input", str(path), "--format", "json"]).stdout)
    stories = {s["items"][0]["id"]: s for sec in data["sections"] for s in sec["stories"]}
    assert stories["a"]["title"] == "US sets port fees"
    assert stories["a"]["gist"].startswith("The US Trade Representative said on Thursday")
    assert stories["b"]["title"].startswith("China's military began three days of exercises")
    assert stories["b"]["gist"].startswith("China's military began")
