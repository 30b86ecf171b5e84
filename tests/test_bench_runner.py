"""The benchmark runner (bench/run.py): which scripts it runs, what it collects, time limits."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)  # type: ignore[union-attr]

GUARD = 'if __name__ == "__main__":\n    main()\n'


def test_scripts_are_those_with_a_main_guard_minus_helpers_and_parts(tmp_path: Path) -> None:
    (tmp_path / "speed.py").write_text("def main(): pass\n" + GUARD)
    (tmp_path / "_helper.py").write_text(GUARD)
    (tmp_path / "quality_topics.py").write_text(GUARD)
    (tmp_path / "fit_summary_weights.py").write_text(GUARD)  # tuning
    (tmp_path / "library.py").write_text("def run(): pass\n")
    assert [p.name for p in run.scripts(tmp_path)] == ["quality_topics.py", "speed.py"]
    (tmp_path / "quality.py").write_text(GUARD)  # the aggregate that runs quality_topics
    assert [p.name for p in run.scripts(tmp_path)] == ["quality.py", "speed.py"]


def test_the_repository_benches_are_all_picked_up() -> None:
    names = {p.name for p in run.scripts()}
    assert {"summarize_speed.py", "quality.py"} <= names
    assert not {"run.py", "quality_summary.py", "rouge.py", "fit_summary_weights.py"} & names


def test_run_script_collects_bench_json(tmp_path: Path) -> None:
    script = tmp_path / "ok.py"
    figures = {
        "figures": [{"name": "speed", "value": 9.5, "unit": "x", "target": ">= 8x", "pass": True}]
    }
    script.write_text(
        "import json, os\n"
        f"open(os.environ['BENCH_JSON'], 'w').write(json.dumps({figures!r}))\n"
        "print('table')\n"
    )
    result = run.run_script(script, time_limit=60)
    assert result["exit"] == 0
    assert "table" in result["output"]
    assert run.figures(result, leaves=5) == figures["figures"]


def test_run_script_stops_a_script_at_its_time_limit(tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(60)\n")
    result = run.run_script(script, time_limit=1)
    assert result["exit"] == "timeout"
    assert result["seconds"] < 30
    assert run.figures(result, leaves=5)[0]["pass"] is False


def test_json_without_figures_shows_numeric_leaves() -> None:
    result = {"exit": 0, "data": {"a": {"b": 1.5, "c": "text"}, "d": [2, 3], "e": True}}
    rows = run.figures(result, leaves=2)
    assert [r["name"] for r in rows] == ["a.b", "d[0]", "... 1 more in bench.json"]
    assert json.dumps(rows)
