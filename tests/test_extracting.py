"""Extraction in worker processes with a time and memory budget (bot/fetch/extracting.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.fetch.extracting import BoundedExtractor
from digests.errors import InputError
from digests.extract import extract_article

ROOT = Path(__file__).resolve().parents[1]

PAGE = (
    "<html><head><title>Port reopens | Harbour Gazette</title></head><body><article>"
    "<h1>Port reopens</h1>"
    + "".join(
        f"<p>The harbour authority reopened berth {i} on Monday after repairs to the quay wall "
        f"that took most of the autumn, officials said in a statement.</p>"
        for i in range(5)
    )
    + "</article></body></html>"
).encode()


# Targets run in the worker process, so they live at module level (imported there by name).
def spin_forever(*args) -> None:
    while True:
        pass


def eat_memory(*args) -> None:
    hog = []
    while True:
        hog.append(bytearray(16 * 2**20))


def refuse(*args) -> None:
    raise InputError("no_article", "Nothing here.")


def worker_pid(*args) -> int:
    return os.getpid()


@pytest.fixture
def extractor_for():
    made: list[BoundedExtractor] = []

    def make(**kwargs) -> BoundedExtractor:
        made.append(BoundedExtractor(**kwargs))
        return made[-1]

    yield make
    for extractor in made:
        extractor.close()


def test_a_page_comes_back_as_extract_article_reads_it(extractor_for) -> None:
    extractor = extractor_for()
    url = "https://www.gazette.example/port"
    assert extractor(PAGE, url) == extract_article(PAGE, url)


def test_refusals_keep_their_code_and_message(extractor_for) -> None:
    extractor = extractor_for(target=refuse)
    with pytest.raises(InputError) as info:
        extractor(b"<p>x</p>")
    assert (info.value.code, info.value.message) == ("no_article", "Nothing here.")


def test_workers_are_reused_between_pages(extractor_for) -> None:
    extractor = extractor_for(target=worker_pid)
    first = extractor(b"")
    assert extractor(b"") == first and first != os.getpid()


def test_a_page_over_the_time_budget_is_refused_and_its_worker_killed(extractor_for) -> None:
    extractor = extractor_for(seconds=1, target=spin_forever)
    with pytest.raises(InputError) as info:
        extractor(PAGE)
    assert info.value.code == "too_complex"
    assert "took longer than" in info.value.message
    assert "paste the article text" in info.value.message
    assert extractor._idle == []  # the spinning worker was not put back


def test_a_page_over_the_memory_budget_is_refused(extractor_for) -> None:
    extractor = extractor_for(seconds=60, memory_mb=64, target=eat_memory)
    with pytest.raises(InputError) as info:
        extractor(PAGE)
    assert info.value.code == "too_complex" and "64 MB" in info.value.message


def test_the_extractor_goes_on_after_a_refusal(extractor_for) -> None:
    extractor = extractor_for(seconds=1, target=spin_forever)
    with pytest.raises(InputError):
        extractor(PAGE)
    extractor.target = worker_pid
    assert isinstance(extractor(PAGE), int)


def test_the_hostile_page_is_refused_quickly_through_the_worker(extractor_for) -> None:
    extractor = extractor_for()
    markup = "<html><body><article>" + "<p>x</p>" * 600_000 + "</article></body></html>"
    with pytest.raises(InputError) as info:
        extractor(markup.encode())
    assert info.value.code == "too_complex"


def test_sigterm_ends_a_process_waiting_on_a_runaway_page(tmp_path) -> None:
    """The gunicorn case: a handler exits on SIGTERM while a thread waits on extraction."""
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import signal, sys, threading
            sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
            from bot.fetch.extracting import BoundedExtractor
            from test_extracting import spin_forever

            def work(extractor):
                try:
                    extractor(b"<p>x</p>")
                except Exception as exc:
                    print("refused:", getattr(exc, "code", exc), flush=True)

            if __name__ == "__main__":
                signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
                extractor = BoundedExtractor(seconds=3, target=spin_forever)
                threading.Thread(target=work, args=(extractor,)).start()
                print("ready", flush=True)
                threading.Event().wait()
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # the worker is spinning now
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "refused: too_complex" in out
