"""Legal basis per source (issue 20, item 2), through the hub: the job centre's export comes under
a statute for linkage only, so its customers who consented to KIM nowhere are in no person-level
listing (gaps, transitions, the review queue, the report's pseudonyms), and retention purges their
records after ``linkage_only_days``, on the erasure path, with a count in the run report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.erasure_ledger import RULE_STATUTE
from kim_hub.hub_db.models import AuditEntry, ReviewItem, SourceRecord
from kim_hub.pipeline.erasure import apply_retention
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.reports import write_reports
from kim_hub.pipeline.retention_plan import retention_plan
from kim_hub.pipeline.review import decide_review, review_items
from kim_hub.pipeline.tombstones import erasure_ledger
from kim_hub.pipeline.worklists import chain_gaps, rechtskreis_transitions
from tests.support import ROOT, Hub, csv_text, deliver, init_home, run_cli

# (Kundennummer, family name, given names, birth date, sex, nationality (job centre, provider), street, postcode)
CUSTOMERS = [
    ("962D000011", "Haddad", "Samira", "1988-03-14", "F", ("Syrien", "SYR"), "Testweg 1", "51373"),
    ("962D000012", "Rahimi", "Ahmad", "1979-07-02", "M", ("Afghanistan", "AFG"), "Probeweg 12", "51375"),
    ("962D000013", "Kovalenko", "Oleksandr", "1991-10-23", "M", ("Ukraine", "UKR"), "Beispielallee 5", "51377"),
    ("962D000014", "Tesfaye", "Selam", "1995-05-30", "F", ("Eritrea", "ERI"), "Musterstraße 40", "51379"),
    ("962D000015", "Yilmaz", "Emre", "1984-12-09", "M", ("Türkei", "TUR"), "Am Prüfstand 8", "51371"),
    ("962D000016", "Nouri", "Leila", "1990-02-17", "F", ("Iran", "IRN"), "Lindenhof 3", "51373"),
    ("962D000017", "Jasim", "Omar", "1987-08-01", "M", ("Irak", "IRQ"), "Kastanienweg 22", "51375"),
    ("962D000018", "Bondarenko", "Iryna", "1976-04-11", "F", ("Ukraine", "UKR"), "Ahornplatz 9", "51377"),
]
CONSENTING = CUSTOMERS[::2]  # half: known at caritas too, with a consent naming kim
NOT_CONSENTING = CUSTOMERS[1::2]  # half: known only from the job centre's export
CARITAS_HEADER = (
    "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,case_opened,case_closed,"
    "consent_recipients\n"
)


def jobcentre_export(customers: list[tuple] = CUSTOMERS) -> bytes:
    """The job centre's nightly export (Windows-1252, CRLF, trailer): every customer in SGB II since March 2025."""
    header = (
        "Kundennummer;BG-Nummer;Nachname;Vorname;Geburtsdatum;Geschlecht;Staatsangehörigkeit;Straße;PLZ;Ort;"
        "Leistungsbeginn;Leistungsende;Status;Team;AZR-Nummer;Stand"
    )
    rows = [
        f"{no};36202//{no[-4:]};{family};{given};{dt.date.fromisoformat(born):%d.%m.%Y};"
        f"{'weiblich' if sex == 'F' else 'männlich'};{nationality[0]};{street};{postcode};Teststadt;"
        "01.03.2025;;Leistungsbezug;T-500;;24.11.2026 23:15"
        for no, family, given, born, sex, nationality, street, postcode in customers
    ]
    return "\r\n".join([header, *rows, f"#Anzahl Datensätze;{len(rows)}", ""]).encode("cp1252")


def caritas_rows(customers: list[tuple] = CONSENTING, consent: str = "kim") -> str:
    """Caritas closed each one's case in June 2025; each consented to KIM (``consent``)."""
    rows = [
        f"CV-{no[-2:]},{family},{given},{born},{sex},{nationality[1]},{street},{postcode},closed,2024-01-10,2025-06-30,{consent}"
        for no, family, given, born, sex, nationality, street, postcode in customers
    ]
    return csv_text(rows, CARITAS_HEADER)


def persons_of(links: dict[tuple[str, str], str | None], customers: list[tuple], stored: Callable[[str], str]) -> set[str | None]:
    """The customers' persons in a links export; ``stored``: a Kundennummer as the hub keeps it (a token)."""
    return {links[("jobcenter", stored(customer[0]))] for customer in customers}


def deliver_both(hub: Hub) -> dict[tuple[str, str], str | None]:
    hub.drop("jobcenter", "JC_KIM_20261124.csv", jobcentre_export())
    hub.drop("caritas", "caritas.csv", caritas_rows())
    hub.sync()
    links = hub.pseudonyms()
    consenting = [links[("caritas", f"CV-{c[0][-2:]}")] for c in CONSENTING]
    assert consenting == [links[("jobcenter", hub.stored_id("jobcenter", c[0]))] for c in CONSENTING], "each joined its customer"
    assert len(persons_of(links, CUSTOMERS, stored(hub))) == len(CUSTOMERS)
    return links


def stored(hub: Hub) -> Callable[[str], str]:
    return lambda customer_no: hub.stored_id("jobcenter", customer_no)


def jobcentre_records(hub: Hub) -> set[str]:
    """The job centre's stored records, by Kundennummer."""
    with hub.sessions() as session:
        query = select(SourceRecord.record_id).where(SourceRecord.source == "jobcenter")
        tokens = set(session.execute(query).scalars())
    return {c[0] for c in CUSTOMERS if hub.stored_id("jobcenter", c[0]) in tokens}


def test_the_gap_list_shows_only_the_customers_who_consented_to_kim(hub: Hub) -> None:
    links = deliver_both(hub)
    gaps = chain_gaps(hub.home, dt.date(2026, 11, 25))
    assert {gap.pseudonym for gap in gaps} == persons_of(links, CONSENTING, stored(hub))
    assert {(gap.trigger, gap.bodies) for gap in gaps} == {("case_closed", ("caritas", "jobcenter"))}


def test_a_consent_naming_single_bodies_lists_nobody(hub: Hub) -> None:
    hub.drop("jobcenter", "JC_KIM_20261124.csv", jobcentre_export())
    hub.drop("caritas", "caritas.csv", caritas_rows(consent="jobcenter"))
    hub.sync()
    assert chain_gaps(hub.home, dt.date(2026, 11, 25)) == []
    hub.config.legal_bases = {"statute:Landesgesetz § 1": "kim"}  # an installation's statute covering KIM
    hub.config.sources["jobcenter"].legal_basis = "statute:Landesgesetz § 1"
    hub.home.save_config(hub.config)
    assert len(chain_gaps(hub.home, dt.date(2026, 11, 25))) == len(CUSTOMERS)


def test_transitions_leave_out_the_customers_held_only_for_linkage(hub: Hub) -> None:
    links = deliver_both(hub)
    hub.drop("jobcenter", "JC_KIM_20261125.csv", jobcentre_export([]).replace(b"24.11.2026", b"25.11.2026"))
    hub.sync()  # everyone missing from the next snapshot: an Abgang each
    listed = rechtskreis_transitions(hub.home, today=dt.date(2026, 11, 25))
    assert {t.pseudonym for t in listed} == persons_of(links, CONSENTING, stored(hub))
    assert {t.kind for t in listed} == {"abgang"}


def test_retention_purges_the_customers_held_only_for_linkage_after_the_period(hub: Hub) -> None:
    links = deliver_both(hub)
    today = dt.date.today()
    counts = apply_retention(hub.home, hub.config, hub.sessions, today + dt.timedelta(days=29))
    assert counts["jobcenter"]["linkage_only_purged"] == 0  # 30 days (the default) not over
    assert len(jobcentre_records(hub)) == len(CUSTOMERS)

    plan = {(r.category, r.scope): r for r in retention_plan(hub.home, hub.config, today + dt.timedelta(days=31))}
    rule = plan[("linkage-only statutory records", "jobcenter")]
    assert (rule.period, rule.due) == ("30 days", len(NOT_CONSENTING)) and "linkage_only_days" in rule.rule
    assert plan[("linkage-only statutory records", "caritas")].due is None  # consent: nothing held only for linkage
    counts = apply_retention(hub.home, hub.config, hub.sessions, today + dt.timedelta(days=31))
    assert counts["jobcenter"]["linkage_only_purged"] == len(NOT_CONSENTING)
    assert counts["jobcenter"]["persons_erased"] == len(NOT_CONSENTING)  # they had no other record
    assert {source: c["linkage_only_purged"] for source, c in counts.items() if source != "jobcenter"} == dict.fromkeys(
        ("abh", "caritas", "awo", "diakonie", "stadt"), 0
    )
    assert jobcentre_records(hub) == {c[0] for c in CONSENTING}
    assert not (hub.path / "archive" / "jobcenter" / "JC_KIM_20261124.csv").exists()  # the delivery held them in clear
    assert set(hub.pseudonyms().values()) == persons_of(links, CONSENTING, stored(hub))
    with hub.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.channel == "change", AuditEntry.action == "erase.records")
        erasures = [(len(e.objects), e.detail) for e in session.execute(query).scalars()]
    assert erasures == [(4, {"records": 4, "persons": 4, "reason": RULE_STATUTE, "ledger_sequence": 1})]
    [tombstone] = erasure_ledger(hub.home, hub.config).entries()  # a restored backup loses them again
    assert (tombstone.rule, tombstone.source, tombstone.counts["records"]) == (RULE_STATUTE, "jobcenter", 4)

    again = apply_retention(hub.home, hub.config, hub.sessions, today + dt.timedelta(days=400))
    assert again["jobcenter"]["linkage_only_purged"] == 0  # the consenting customers stay


def test_a_withdrawal_makes_the_customer_linkage_only_once_the_job_centre_was_told(hub: Hub) -> None:
    hub.drop("jobcenter", "JC_KIM_20261124.csv", jobcentre_export(CONSENTING[:1]))
    hub.drop("caritas", "caritas.csv", caritas_rows(CONSENTING[:1], consent="kim"))
    hub.sync()
    assert hub.push(dt.date.today()).summaries_sent == 1  # the job centre's record got the caritas summary
    header = CARITAS_HEADER.rstrip("\n") + ",consent_withdrawn\n"
    withdrawn = caritas_rows(CONSENTING[:1]).splitlines()[1] + f",{dt.date.today().isoformat()}"
    hub.drop_rows("caritas", "withdrawal.csv", [withdrawn], header=header)
    hub.sync()
    later = dt.date.today() + dt.timedelta(days=31)
    assert apply_retention(hub.home, hub.config, hub.sessions, later)["jobcenter"]["linkage_only_purged"] == 0  # owed a notice
    assert hub.push(dt.date.today()).withdrawal_notices == 1
    assert apply_retention(hub.home, hub.config, hub.sessions, later)["jobcenter"]["linkage_only_purged"] == 1
    assert jobcentre_records(hub) == set()


def test_the_review_queue_shows_a_linkage_only_record_by_its_source_alone_and_hides_pairs_of_two(hub: Hub) -> None:
    links = deliver_both(hub)
    pk = {}
    with hub.sessions() as session:
        for source, record_id, key in session.execute(select(SourceRecord.source, SourceRecord.record_id, SourceRecord.id)):
            pk[(source, record_id)] = key
    held_record = ("caritas", "CV-11")
    other, third = (("jobcenter", hub.stored_id("jobcenter", c[0])) for c in NOT_CONSENTING[:2])
    with hub.sessions() as session, session.begin():
        session.add(ReviewItem(record_a=pk[held_record], record_b=pk[other], score=0.5, evidence={"birth_date": "differs"}))
        session.add(ReviewItem(record_a=pk[other], record_b=pk[third], score=0.6, evidence={"birth_date": "differs"}))
    items = review_items(hub.home)
    assert len(items) == 1
    (item,) = items
    assert item.a == ("caritas", "CV-11", links[held_record])
    assert item.b == ("jobcenter", "(linkage only)", None)  # neither the record's token nor a pseudonym
    with hub.sessions() as session:
        hidden = session.execute(select(ReviewItem.id).where(ReviewItem.record_a == pk[other])).scalar_one()
    report = write_reports(hub.home)
    assert [(r["a"], r["b"]) for r in report["review"]["items"]] == [
        ({"source": "caritas", "person": links[held_record]}, {"source": "jobcenter", "person": None})
    ]
    with pytest.raises(ConfigError, match=f"no review item {hidden}$"):
        decide_review(hub.home, hidden, "different")  # as if it did not exist
    decide_review(hub.home, item.id, "different")
    assert review_items(hub.home) == [] and [i.status for i in review_items(hub.home, "all")] == ["different"]


# --- the Done-when, through the real command line ----------------------------------------------------------


def scan(home: Path, needle: str) -> list[str]:
    """Files under the home holding ``needle`` (UTF-8 or Windows-1252)."""
    patterns = {needle.encode("utf-8"), needle.encode("cp1252")}
    return [
        str(path.relative_to(home))
        for path in sorted(home.rglob("*"))
        if path.is_file() and not path.is_symlink() and any(p in path.read_bytes() for p in patterns)
    ]


def test_gaps_lists_none_of_the_job_centre_customers_without_consent_and_retention_purges_them(
    tmp_path: Path, prefect_api: str
) -> None:
    home = init_home(tmp_path / "home")
    deliver(home / "inbox" / "jobcenter", "JC_KIM_20261124.csv", jobcentre_export())
    deliver(home / "inbox" / "caritas", "caritas.csv", caritas_rows())
    run_cli("ingest", home=home, api=prefect_api)
    links = {
        (r["source"], r["record_id"]): r["person_id"] for r in json.loads(run_cli("links", "--format", "json", home=home).stdout)
    }
    forms = RecordIdForms.of(HubHome(home), HubHome(home).load_config())
    tokens = {forms.stored("jobcenter", c[0]): c[0] for c in CUSTOMERS}  # links show the job centre's ids as tokens

    def token(customer_no: str) -> str:
        return forms.stored("jobcenter", customer_no)

    gaps = json.loads(run_cli("gaps", "--format", "json", home=home).stdout)
    assert {g["pseudonym"] for g in gaps} == persons_of(links, CONSENTING, token)
    assert not {g["pseudonym"] for g in gaps} & persons_of(links, NOT_CONSENTING, token)
    text = run_cli("gaps", home=home).stdout
    assert text.rstrip().endswith(f"{len(CONSENTING)} gaps")
    assert [c[1] for c in NOT_CONSENTING if scan(home, c[1])], "their names are still in the delivered file"

    config = home / "hub.toml"  # the period over: 0 days
    config.write_text(config.read_text(encoding="utf-8").replace("linkage_only_days = 30", "linkage_only_days = 0"), "utf-8")
    result = run_cli("retention", home=home, api=prefect_api)
    assert f"\n{len(NOT_CONSENTING)} linkage-only records purged\n" in result.stdout, result.stdout
    assert "jobcenter    0 records of closed cases, 4 held only for linkage and 4 persons erased" in result.stdout
    report = json.loads((home / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["kind"] == "retention" and report["run"]["linkage_only_purged"] == len(NOT_CONSENTING)
    assert report["run"]["sources"]["jobcenter"]["linkage_only_purged"] == len(NOT_CONSENTING)
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)
    assert "nur zur Verknüpfung" in (home / "reports" / "report.html").read_text(encoding="utf-8")

    left = {(r["source"], r["record_id"]) for r in json.loads(run_cli("links", "--format", "json", home=home).stdout)}
    assert {tokens[record_id] for source, record_id in left if source == "jobcenter"} == {c[0] for c in CONSENTING}
    assert all(scan(home, c[1]) == [] for c in NOT_CONSENTING), "a purged customer's name is left somewhere"
    after = json.loads(run_cli("gaps", "--format", "json", home=home).stdout)
    assert {g["pseudonym"] for g in after} == persons_of(links, CONSENTING, token)  # the consenting ones stay listed
