"""Run every benchmark once and print one table of figures with their targets (``make bench``).

Which scripts: every ``bench/*.py`` that has a main guard (``__name__ == "__main__"``), except
this runner, names starting with ``_`` (helpers), those in ``SKIP`` (tuning scripts) and
``PARTS`` whose aggregate script is there (``quality.py`` runs ``quality_topics.py``...). Each runs with default arguments in its own process
group, within its own time limit and the overall budget, with ``BENCH_JSON=<tmp file>``; what
it writes there is collected into ``bench/out/bench.json`` (not committed) with the machine.

The JSON contract (COMMON.md): one object. For the table, an object may list its headline
figures as ``"figures": [{"name", "value", "unit"?, "target"?, "pass"?}]`` (``target`` is shown
as given; ``pass`` is true/false, or absent when there is no target). Without such a list its
numeric leaves are shown (the first ``--leaves``) with no target. Ratios compare with a
baseline from the same run; absolute latency and memory figures hold for the machine named in
the header only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "bench.json"
SKIP = {"fit_summary_weights": "tuning, not a benchmark"}
# Parts that an aggregate script runs itself: skipped when the aggregate is there.
PARTS = {"quality_summary": "quality", "quality_topics": "quality", "quality_clusters": "quality"}
TIME_LIMIT = 300  # seconds per script
BUDGET = 570  # seconds for all of them: make bench must finish within 10 minutes
MAIN_GUARD = "if __name__ == " + '"__main__":'


def scripts(folder: Path = HERE) -> list[Path]:
    """The benchmark scripts, by the rule in the module docstring."""
    found = []
    for path in sorted(folder.glob("*.py")):
        if path.name == Path(__file__).name or path.name.startswith("_") or path.stem in SKIP:
            continue
        if path.stem in PARTS and (folder / f"{PARTS[path.stem]}.py").is_file():
            continue
        if MAIN_GUARD in path.read_text(encoding="utf-8"):
            found.append(path)
    return found


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run_script(path: Path, time_limit: float) -> dict:
    """Run one script (its own process group, killed at the time limit); what it reported."""
    with tempfile.TemporaryDirectory() as tmp:
        json_path = Path(tmp) / "bench.json"
        env = {**os.environ, "BENCH_JSON": str(json_path), "OPENBLAS_NUM_THREADS": "1"}
        started = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, str(path)],
            cwd=HERE.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                output, _ = process.communicate(timeout=max(1.0, time_limit))
                code: int | str = process.returncode
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                output, _ = process.communicate()
                code = "timeout"
        seconds = round(time.perf_counter() - started, 1)
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
    return {"exit": code, "seconds": seconds, "data": data, "output": output}


def _leaves(data: object, prefix: str = "") -> list[tuple[str, float]]:
    if isinstance(data, bool):
        return []
    if isinstance(data, int | float):
        return [(prefix, data)]
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _leaves(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in _leaves(v, f"{prefix}[{i}]")]
    return []


def figures(result: dict, leaves: int) -> list[dict]:
    """The rows one script contributes to the table."""
    data = result["data"]
    if result["exit"] != 0:
        return [{"name": f"exit: {result['exit']}", "value": None, "target": 0, "pass": False}]
    if data is None:
        return [{"name": "(no BENCH_JSON written)", "value": None}]
    if isinstance(data, dict) and isinstance(data.get("figures"), list):
        return [f for f in data["figures"] if isinstance(f, dict) and "name" in f]
    rows = [{"name": k, "value": v} for k, v in _leaves(data)]
    if len(rows) > leaves:
        rows = [*rows[:leaves], {"name": f"... {len(rows) - leaves} more in bench.json"}]
    return rows


def _value(row: dict) -> str:
    value = row.get("value")
    if value is None:
        return "-"
    text = f"{value:,.4g}" if isinstance(value, float) else str(value)
    return text + str(row.get("unit") or "")


def print_table(results: dict[str, dict], leaves: int) -> tuple[int, int]:
    header = f"{'script':<20}{'figure':<62}{'value':>12}  {'target':<9}{'result'}"
    print(header)
    print("-" * len(header))
    passed = missed = 0
    for name, result in results.items():
        for row in figures(result, leaves):
            verdict = {True: "pass", False: "MISS"}.get(row.get("pass"), "")
            passed += verdict == "pass"
            missed += verdict == "MISS"
            target = "-" if row.get("target") is None else str(row["target"])
            print(f"{name:<20}{str(row['name'])[:61]:<62}{_value(row):>12}  {target:<9}{verdict}")
    return passed, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated script names to run")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds per script")
    parser.add_argument("--budget", type=float, default=BUDGET, help="seconds for all scripts")
    parser.add_argument("--leaves", type=int, default=12, help="rows per script without figures")
    args = parser.parse_args(argv)

    chosen = [p for p in scripts() if not args.only or p.stem in args.only.split(",")]
    host = machine()
    print(
        f"machine: {host['platform']}, {host['processor']}, {host['cores']} cores, "
        f"Python {host['python']}, load average {host['load_average']}"
    )
    results: dict[str, dict] = {}
    started = time.perf_counter()
    for path in chosen:
        left = args.budget - (time.perf_counter() - started)
        if left < 5:
            results[path.stem] = {"exit": "not run (budget)", "seconds": 0, "data": None}
            continue
        print(f"== {path.name}", flush=True)
        result = results[path.stem] = run_script(path, min(args.time_limit, left))
        print(result.pop("output").rstrip())
        print(f"== {path.name}: exit {result['exit']} in {result['seconds']} s\n", flush=True)
    total = round(time.perf_counter() - started, 1)

    passed, missed = print_table(results, args.leaves)
    summary = {
        "machine": host,
        "seconds": total,
        "pass": passed,
        "miss": missed,
        "figures": {name: figures(result, args.leaves) for name, result in results.items()},
    }
    print(f"\n{passed} pass, {missed} miss; {len(chosen)} scripts in {total} s\n")
    print(json.dumps(summary, indent=1, default=str))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {**summary, "skipped": {**SKIP, **PARTS}, "scripts": results}
    OUT.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"(everything in {OUT.relative_to(HERE.parent)})")
    return 1 if any(r["exit"] != 0 for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
