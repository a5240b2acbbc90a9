"""Steps that must not overlap wait for each other (hub_db.locks), on SQLite and PostgreSQL.

Each test stops one step in the middle of its transaction (a thread waiting on an event), starts
the competing step in a second thread and checks that it waits instead of acting on what it
read; then lets both finish and checks that nothing was done twice or lost. Without the locks
the second step would finish while the first is stopped: a summary sent twice, a record linked
twice (a duplicate key), a change marked as linked although it never was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select

from kim_hub.hub_db import master_index
from kim_hub.hub_db.link_queue import waiting
from kim_hub.hub_db.models import Link, SourceRecord, Transfer
from kim_hub.pipeline import push as push_module
from tests.support import Hub
from tests.support.data import TODAY, exchange_csv, person_at

STOPPED_FOR = 10.0  # seconds a stopped step waits at most (a hung test fails instead of hanging)
WAITING = 1.5  # the competing step must still be waiting after this


class Stop:
    """Stops the first thread that calls ``wrap``'s function until ``go`` is called."""

    def __init__(self) -> None:
        self.reached, self.released = threading.Event(), threading.Event()
        self.owner: threading.Thread | None = None

    def wrap(self, function: Callable) -> Callable:
        def stopping(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = function(*args, **kwargs)
            if self.owner is None or self.owner is threading.current_thread():
                self.owner = threading.current_thread()
                self.reached.set()
                assert self.released.wait(STOPPED_FOR)
            return result

        return stopping

    def go(self) -> None:
        self.released.set()


def _run(target: Callable[[], object]) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def body() -> None:
        try:
            result["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, result


def _overlap(first: Callable[[], object], second: Callable[[], object], stop: Stop) -> tuple[object, object]:
    """Run ``first`` until ``stop``, then ``second``; ``second`` must wait until ``first`` ends."""
    one, first_result = _run(first)
    assert stop.reached.wait(STOPPED_FOR), "the first step never reached its stop"
    two, second_result = _run(second)
    two.join(WAITING)
    still_waiting = two.is_alive()
    stop.go()
    one.join(STOPPED_FOR * 3)
    two.join(STOPPED_FOR * 3)
    assert "error" not in first_result and "error" not in second_result, first_result.get("error") or second_result.get("error")
    assert still_waiting, "the second step did not wait for the first one's lock"
    return first_result["value"], second_result["value"]


def test_a_second_push_waits_and_sends_nothing_twice(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001", status="assessment")))
    hub.sync()
    stop = Stop()
    monkeypatch.setattr(
        push_module, "plan_deliveries", stop.wrap(push_module.plan_deliveries)
    )  # stopped holding the lock, having planned

    first, second = _overlap(lambda: hub.push(TODAY), lambda: hub.push(TODAY), stop)
    assert (first.summaries_sent, second.summaries_sent, second.unchanged) == (2, 0, 2)
    with hub.sessions() as session:
        assert len(session.execute(select(Transfer)).scalars().all()) == 2


def test_a_second_linking_waits_and_links_nothing_twice(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.ingest_all()
    stop = Stop()
    monkeypatch.setattr(master_index, "_cluster_scope", stop.wrap(master_index._cluster_scope))

    first, second = _overlap(hub.link, hub.link, stop)
    assert (first.records_linked, second.records_linked) == (2, 0)
    with hub.sessions() as session:
        assert len(set(session.execute(select(Link.person_id)).scalars())) == 1


def test_a_change_imported_during_linking_is_not_lost(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.sync()  # linked once: the model is stored, so the next linking writes nothing before it clusters
    hub.drop("caritas", "c2.csv", exchange_csv(person_at("C-1", status="assessment", updated="2026-11-22")))
    hub.ingest("caritas")
    stop = Stop()
    monkeypatch.setattr(master_index, "_cluster_scope", stop.wrap(master_index._cluster_scope))
    # and it changes again meanwhile
    hub.drop("caritas", "c3.csv", exchange_csv(person_at("C-1", status="closed", updated="2026-11-24")))

    _overlap(hub.link, lambda: hub.ingest("caritas"), stop)
    with hub.sessions() as session:
        changed = session.execute(select(SourceRecord).where(SourceRecord.record_id == "C-1")).scalar_one()
        assert changed.case_data["case_status"] == "closed"
        assert changed.id in waiting(session), "linking marked a change as linked that it never saw"
    assert hub.link().records_linked == 1
