"""The master index learns a given-name equivalence from reviewers' decisions and applies it to
the persons nobody reviewed (hub_db.learnt_names, linkage.learnt_names), on SQLite and PostgreSQL.

Five persons go by Mustafa at caritas and by Memo at the AWO, a call name mappings/call_names.csv
does not know: each pair shows the twins' pattern (same family name, birth date and address,
given names wholly different) and waits in review. Once two persons' pairs are decided to be one
person, the others' are linked without a reviewer; a pair decided to be two persons (twins) keeps
the names apart, and an undo takes the equivalence back."""

from __future__ import annotations

from sqlalchemy import delete, select

from kim_hub.hub_db import learnt_names, review
from kim_hub.hub_db.master_index import LinkOutcome
from kim_hub.hub_db.models import LearntGivenNames, ReviewItem, SourceRecord
from kim_hub.hub_db.online import OnlineIndex
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.learnt_names import LearntNames
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from kim_hub.pipeline.linking import link_policy
from tests.support import Hub

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,consent_recipients\n"
FAMILIES = "Haddad Rahimi Okafor Nasser Demir".split()
OTHER_FAMILIES = (
    "Bondarenko Kovalenko Melnyk Shevchenko Tkachenko Kravchenko Oliinyk Lysenko Marchenko Rudenko "
    "Savchenko Petrenko Moroz Pavlenko Ponomarenko Karimi Ahmadi Hosseini Mohammadi Rezaei"
).split()
OTHER_GIVEN = (
    "Olena Iryna Tetiana Natalia Svitlana Oksana Yulia Halyna Liudmyla Viktoria "
    "Maryna Larysa Nadiia Zoya Alina Zahra Maryam Fatemeh Leila Shirin"
).split()


def _deliver(hub: Hub) -> None:
    """The five persons, and others at caritas, so that the index is not so small that every
    name in it is frequent. In so small an index the shipped model's weights are low: review starts
    at a lower probability than usual (the automatic threshold is the default)."""
    linkage = hub.config.linkage.model_copy(update={"review_probability": 0.2})
    hub.config = hub.config.model_copy(update={"linkage": linkage})
    hub.home.save_config(hub.config)
    caritas, awo = [], []
    for n, family in enumerate(FAMILIES):
        born, street = f"19{70 + n}-{1 + n:02d}-{2 + n:02d}", f"Teststraße {n + 1}"
        caritas.append(f"C-{n},{family},Mustafa,{born},M,SYR,{street},5137{n},active,kim")
        awo.append(f"A-{n},{family},Memo,{born},M,SYR,{street},5137{n},active,kim")
    for n, (family, given) in enumerate(zip(OTHER_FAMILIES, OTHER_GIVEN)):
        born, street = f"19{60 + n % 30}-{1 + n % 12:02d}-{10 + n % 18:02d}", f"Probeweg {n + 1}"
        caritas.append(f"O-{n},{family},{given},{born},F,UKR,{street},5{1400 + n},active,kim")
    hub.drop_rows("caritas", "caritas.csv", caritas, header=HEADER)
    hub.drop_rows("awo", "awo.csv", awo, header=HEADER)
    hub.sync()


def _item_of(hub: Hub, n: int) -> int:
    """The review item of person ``n``'s two records."""
    with hub.sessions() as session:
        ids = dict(session.execute(select(SourceRecord.record_id, SourceRecord.id)).all())
        pair = sorted((ids[f"C-{n}"], ids[f"A-{n}"]))
        return session.execute(
            select(ReviewItem.id).where(ReviewItem.record_a == pair[0], ReviewItem.record_b == pair[1])
        ).scalar_one()


def _decide(hub: Hub, n: int, decision: str) -> LinkOutcome:
    item = _item_of(hub, n)
    with hub.sessions() as session, session.begin():
        return review.decide(session, item, decision, link_policy(hub.config))


def _undo(hub: Hub, n: int) -> None:
    item = _item_of(hub, n)
    with hub.sessions() as session, session.begin():
        review.undo(session, item, link_policy(hub.config))


def _one_person(hub: Hub) -> list[bool]:
    """Per person: are its Mustafa and its Memo linked to one pseudonym?"""
    person = hub.pseudonyms()
    return [person[("caritas", f"C-{n}")] == person[("awo", f"A-{n}")] for n in range(len(FAMILIES))]


def _learnt_pairs(hub: Hub) -> int:
    with hub.sessions() as session:
        return len(learnt_names.stored(session).pairs)


def test_two_persons_decided_the_same_teach_the_index_and_an_undo_takes_it_back(hub: Hub) -> None:
    _deliver(hub)
    assert _one_person(hub) == [False] * 5
    _decide(hub, 0, "same")
    assert _one_person(hub) == [True, False, False, False, False]  # one person's alias is no rule
    assert _learnt_pairs(hub) == 0
    assert _decide(hub, 1, "same").given_name_pairs == 1  # the run says what it applied
    assert _one_person(hub) == [True] * 5
    assert _learnt_pairs(hub) == 1
    with hub.sessions() as session:
        stored = session.execute(select(LearntGivenNames.data)).scalar_one()
        open_items = session.execute(select(ReviewItem.id).where(ReviewItem.status == "open")).scalars().all()
    assert not bytes(stored).lstrip().startswith(b"[")  # sealed, not the tokens as JSON
    assert open_items == []
    _undo(hub, 1)
    assert _learnt_pairs(hub) == 0
    assert _one_person(hub) == [True, False, False, False, False]


def test_a_pair_decided_to_be_two_persons_keeps_the_names_apart(hub: Hub) -> None:
    _deliver(hub)
    _decide(hub, 0, "different")  # twins who happen to be named so
    _decide(hub, 1, "same")
    _decide(hub, 2, "same")
    assert _learnt_pairs(hub) == 0
    assert _one_person(hub) == [False, True, True, False, False]


def test_the_online_index_asks_with_the_learnt_names(hub: Hub) -> None:
    """A body asks about Memo Kaya, whom the index holds only as Mustafa Kaya: the twins' pattern,
    never an automatic answer; once the pair is learnt, the answer is that person (the asked
    record gets the class's token too)."""
    _deliver(hub)
    hub.drop_rows("caritas", "kaya.csv", ["C-9,Kaya,Mustafa,1985-07-08,M,SYR,Teststraße 9,51379,active,kim"], header=HEADER)
    hub.sync()
    memo = encode_identity(
        Identity(
            name=PersonName(family_name="Kaya", given_names="Memo"),
            birth_date=BirthDate(year=1985, month=7, day=8, precision="day"),
            sex="M",
            nationalities=("SYR",),
            street="Teststraße 9",
            postcode="51379",
        ),
        hub.keys,
    )
    with hub.sessions() as session:
        before = OnlineIndex(session).link(memo, source="diakonie")
    _decide(hub, 0, "same")
    _decide(hub, 1, "same")
    with hub.sessions() as session:
        after = OnlineIndex(session).link(memo, source="diakonie")
    assert before.status != "auto"
    assert (after.status, after.pseudonym) == ("auto", hub.pseudonyms()[("caritas", "C-9")])


def test_a_stored_set_that_no_longer_opens_counts_as_none_and_is_learnt_again(hub: Hub) -> None:
    """A restored database may hold a set sealed with a key version since destroyed, or damaged:
    it counts as no set, the link run goes on and stores what it learns now."""
    _deliver(hub)
    for key_id in ("k-destroyed", hub.keys.key_id):
        with hub.sessions() as session, session.begin():
            session.execute(delete(LearntGivenNames))
            session.add(LearntGivenNames(key_id=key_id, data=b"\x01" * 64))
        with hub.sessions() as session:
            assert learnt_names.stored(session) == LearntNames()
    _decide(hub, 0, "same")
    _decide(hub, 1, "same")
    assert _learnt_pairs(hub) == 1
    assert _one_person(hub) == [True] * 5
