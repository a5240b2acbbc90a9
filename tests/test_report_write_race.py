"""Two syncs publishing the report at once (tests/reliability/test_concurrent_ingest.py): each
writes the page whole, neither fails on the other's partial file."""

from __future__ import annotations

import threading
from pathlib import Path

from kim_hub.pipeline.reports import write_atomically


def test_two_writers_of_one_page_at_once_both_succeed_and_the_page_is_whole(tmp_path: Path) -> None:
    page = tmp_path / "reports" / "report.html"
    texts = {name: name * 50_000 for name in ("a", "b")}
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for _ in range(200):
                write_atomically(page, texts[name])
        except BaseException as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    writers = [threading.Thread(target=write, args=(name,)) for name in texts]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    assert page.read_text(encoding="utf-8") in texts.values()
    assert [p.name for p in page.parent.iterdir()] == ["report.html"], "no partial file left behind"
