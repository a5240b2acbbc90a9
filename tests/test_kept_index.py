"""A decision through the index a process kept links exactly as one through a freshly loaded index,
and a kept index that is no longer current (records changed, another process linked) is not used.

Each decision is tried twice in transactions that roll back: once while the process keeps its
index (``hub_db.kept_index``) and once after it let go of it, so that the run loads the index
from the database; the persons (as partitions of records: pseudonyms are random), the links'
status and score, and the open review items must be the same. A spy on ``index_snapshot.load``
tells which way each run went, so neither comparison can pass by taking the same path twice.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kim_hub.hub_db import index_snapshot
from kim_hub.hub_db.kept_index import keeping
from kim_hub.hub_db.models import Link, ReviewItem, SourceRecord
from kim_hub.hub_db.review import decide
from kim_hub.linkage.encoding_bytes import unpack
from kim_hub.pipeline.linking import link_policy
from kim_hub.synth import generate
from tests.support import Hub

Outcome = tuple[frozenset[frozenset[int]], dict[int, tuple[str, float | None]], set[tuple[int, int, float]]]


@pytest.fixture
def linked(hub: Hub) -> Hub:
    """A generated population ingested and linked with a wide review band (many open items)."""
    hub.config.linkage.review_probability = 0.001
    hub.home.save_config(hub.config)
    drops = hub.path.parent / "drops"
    generate(drops, 300, seed=21, workers=1)
    for path in (drops / "inbox").rglob("*.csv"):
        hub.drop(path.parent.name, path.name, path.read_bytes())
    hub.ingest_all()
    hub.link()
    return hub


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a link run loaded the index from the database (one entry per load)."""
    calls: list[int] = []
    real = index_snapshot.load

    def counted(session: Session, queued: set[int] | None = None) -> index_snapshot.LoadedIndex:
        calls.append(1)
        return real(session, queued)

    monkeypatch.setattr(index_snapshot, "load", counted)
    return calls


def open_items(hub: Hub, count: int) -> list[int]:
    with hub.sessions() as session:
        query = select(ReviewItem.id).where(ReviewItem.status == "open").order_by(ReviewItem.score.desc(), ReviewItem.id)
        items = list(session.execute(query).scalars())
    assert len(items) >= count, "the population gives too few uncertain pairs to test with"
    return items[:count]


def outcome(session: Session) -> Outcome:
    """The persons as sets of records, each record's link status and score, the open items."""
    members: dict[int, set[int]] = defaultdict(set)
    links: dict[int, tuple[str, float | None]] = {}
    for record, person, status, score in session.execute(select(Link.record_id, Link.person_id, Link.status, Link.score)):
        members[person].add(record)
        links[record] = (status, score)
    items = session.execute(select(ReviewItem.record_a, ReviewItem.record_b, ReviewItem.score).where(ReviewItem.status == "open"))
    return frozenset(frozenset(m) for m in members.values()), links, {tuple(row) for row in items}  # type: ignore[misc]


def tried(hub: Hub, item: int, decision: str) -> Outcome:
    """The decision's outcome, rolled back."""
    with hub.sessions() as session:
        trial = session.begin()
        try:
            decide(session, item, decision, link_policy(hub.config), reason="fields_agree")
            session.flush()
            return outcome(session)
        finally:
            trial.rollback()


def decided(hub: Hub, item: int, decision: str) -> None:
    with hub.sessions() as session, session.begin():
        decide(session, item, decision, link_policy(hub.config), reason="fields_agree")


@contextmanager
def kept_after(hub: Hub, item: int) -> Iterator[None]:
    """Keeping the index, from a committed decision on ``item`` on."""
    with keeping():
        decided(hub, item, "different")
        yield


def test_a_decision_through_the_kept_index_links_as_through_a_fresh_load(linked: Hub, loads: list[int]) -> None:
    first, second, third, *trials = open_items(linked, 6)
    choices = ("same", "different", "same")
    with keeping():
        for item, decision in ((first, "different"), (second, "same"), (third, "different")):
            decided(linked, item, decision)
        assert len(loads) == 1, "the first run loads the index, the next ones use the one kept"
        del loads[:]
        through_kept = [tried(linked, item, decision) for item, decision in zip(trials, choices)]
        assert loads == []
    fresh = [tried(linked, item, decision) for item, decision in zip(trials, choices)]
    assert len(loads) == len(trials), "without keeping, every run loads the index"
    assert through_kept == fresh


def test_a_rolled_back_run_leaves_the_kept_index_as_it_was(linked: Hub, loads: list[int]) -> None:
    first, second, third = open_items(linked, 3)
    with kept_after(linked, first):
        tried(linked, second, "same")  # a preview: the run is rolled back
        del loads[:]
        kept_path = tried(linked, third, "same")
        assert loads == [], "the index kept before the rolled-back run is still used"
    del loads[:]
    assert tried(linked, third, "same") == kept_path


def test_a_record_changed_behind_the_kept_index_makes_the_next_run_load_afresh(linked: Hub, loads: list[int]) -> None:
    """As a key rotation does: encoding, key id and content hash rewritten, nothing queued."""
    first, item = open_items(linked, 2)
    with kept_after(linked, first):
        with linked.sessions() as session, session.begin():
            a, b = session.execute(select(ReviewItem.record_a, ReviewItem.record_b).where(ReviewItem.id == item)).one()
            person = session.execute(select(Link.person_id).where(Link.record_id == a)).scalar_one()
            others = (
                select(Link.record_id).where(Link.record_id.not_in((a, b))).order_by(Link.person_id != person, Link.record_id)
            )
            changed = session.execute(others.limit(1)).scalar_one()  # not queued by the decision: a's person's, if any
            donor = session.execute(select(SourceRecord).where(SourceRecord.id == b)).scalar_one()
            opened = linked.keys.open_encoding(donor.encoding, donor.source, donor.content_hash)
            clear = unpack(opened).to_json()  # clear JSON, as stored before sealing
            session.execute(
                update(SourceRecord)
                .where(SourceRecord.id == changed)
                .values(encoding=clear, content_hash="e" * 16, key_id="k-rotated")
            )
        del loads[:]
        kept_path = tried(linked, item, "same")
        assert len(loads) == 1, "a kept index that no longer matches the records is not used"
    del loads[:]
    assert tried(linked, item, "same") == kept_path


def test_another_process_linking_meanwhile_makes_the_next_run_load_afresh(linked: Hub, loads: list[int]) -> None:
    first, item, other = open_items(linked, 3)
    with kept_after(linked, first):
        _decide_in_another_process(linked, other)
        del loads[:]
        kept_path = tried(linked, item, "same")
        assert len(loads) == 1, "a kept index another process's run went past is not used"
    del loads[:]
    assert tried(linked, item, "same") == kept_path


def _decide_in_another_process(hub: Hub, item: int) -> None:
    """A decision (and its link run) by another process on the same database."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from kim_hub.hub_db.review import decide
        from kim_hub.pipeline.database import open_sessions
        from kim_hub.pipeline.home import HubHome
        from kim_hub.pipeline.linking import link_policy
        home = HubHome(Path({str(hub.home.path)!r}))
        config = home.load_config()
        with open_sessions(home, config) as sessions, sessions() as session, session.begin():
            decide(session, {item}, "same", link_policy(config))
        """
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", script], check=True, cwd=root, timeout=120)
