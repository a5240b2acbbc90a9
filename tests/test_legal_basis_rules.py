"""Legal basis per source (issue 20, item 2), the pure side: whom the hub may hold and list for
KIM, which records it holds only for linkage, and the closed list of bases in hub.toml."""

from __future__ import annotations

import datetime as dt

import pytest

from kim_hub.core.errors import ConfigError
from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.legal_basis import SourceBases, held_for_kim, linkage_only
from kim_hub.exchange.summary import HeldRecord
from kim_hub.mappings.legal_bases import legal_basis, shipped_legal_bases
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, SourceConfig, default_source, render_config
from kim_hub.pipeline.legal_basis import source_bases

TODAY = dt.date(2026, 11, 25)
POLICY = ConsentPolicy(TODAY)
BASES = SourceBases(linkage_only=frozenset({"jobcenter", "abh"}))  # the defaults of `kim-hub init`
KIM = {"recipients": ["kim"]}


def record(source: str, consent: dict | None = None, key: int = 0, events: tuple = ()) -> HeldRecord:
    return HeldRecord(source, f"{source}-{key}", {"consent": consent or {}, "events": list(events)}, key)


# --- who is held for KIM: one phenomenon per line ------------------------------------------------------

HELD = {
    "a consent naming kim at a charity": ([record("jobcenter"), record("caritas", KIM)], True),
    "a consent naming kim on the job centre's own record": ([record("jobcenter", KIM)], True),
    "only the job centre's export": ([record("jobcenter")], False),
    "a charity record without consent": ([record("jobcenter"), record("caritas")], False),
    "a consent naming single bodies, not kim": ([record("jobcenter"), record("caritas", {"recipients": ["jobcenter"]})], False),
    "a kim consent that expired": ([record("caritas", {"recipients": ["kim"], "valid_until": "2026-11-24"})], False),
    "a kim consent not yet valid": ([record("caritas", {"recipients": ["kim"], "valid_from": "2026-11-26"})], False),
    "a kim consent for another purpose": ([record("caritas", {"recipients": ["kim"], "purpose": "forschung"})], False),
    "a kim consent, withdrawn on another record": (
        [record("caritas", KIM), record("awo", {"recipients": ["kim"], "withdrawn_at": "2026-11-20"})],
        False,
    ),
    "a withdrawal dated tomorrow: not yet": (
        [record("caritas", KIM), record("awo", {"recipients": ["kim"], "withdrawn_at": "2026-11-26"})],
        True,
    ),
}


@pytest.mark.parametrize("case", HELD)
def test_who_the_hub_may_hold_for_kim(case: str) -> None:
    records, expected = HELD[case]
    assert held_for_kim(records, BASES, POLICY) is expected


def test_a_statute_covering_kim_holds_its_persons_whatever_their_consents_say() -> None:
    covering = SourceBases(covering=frozenset({"sozialamt"}), linkage_only=frozenset({"jobcenter"}))
    withdrawn = {"recipients": ["kim"], "withdrawn_at": "2026-11-01"}
    assert held_for_kim([record("sozialamt"), record("caritas", withdrawn)], covering, POLICY)
    assert not held_for_kim([record("jobcenter"), record("caritas", withdrawn)], covering, POLICY)


# --- what is held only for linkage ------------------------------------------------------------------------


def kept_for_linkage_only(records: list[HeldRecord], owed_notice: tuple[int, ...] = ()) -> list[str]:
    return [r.record_id for r in linkage_only(records, BASES, POLICY, owed_notice)]


def test_a_job_centre_customer_nobody_consented_for_is_held_only_for_linkage() -> None:
    assert kept_for_linkage_only([record("jobcenter", key=1)]) == ["jobcenter-1"]
    assert kept_for_linkage_only([record("jobcenter", key=1), record("abh", key=2)]) == ["jobcenter-1", "abh-2"]


def test_a_consent_naming_kim_anywhere_keeps_every_record_of_the_person() -> None:
    assert kept_for_linkage_only([record("jobcenter", key=1), record("abh", key=2), record("caritas", KIM, 3)]) == []


def test_records_of_consent_sources_are_never_purged_by_the_rule() -> None:
    """A charity's record stays whatever its consent says: its withdrawal is what stops the person's transfers."""
    withdrawn = {"recipients": ["kim"], "withdrawn_at": "2026-11-01"}
    assert kept_for_linkage_only([record("jobcenter", key=1), record("caritas", withdrawn, 2)]) == ["jobcenter-1"]
    assert kept_for_linkage_only([record("caritas", key=2), record("awo", key=3)]) == []


def test_a_record_the_exchange_needs_stays() -> None:
    # the recipient of a consented summary (the charity's consent names the job centre, not kim)
    assert kept_for_linkage_only([record("jobcenter", key=1), record("caritas", {"recipients": ["jobcenter"]}, 2)]) == []
    # an origin: its own consent releases it to another body of the person
    assert kept_for_linkage_only([record("jobcenter", {"recipients": ["caritas"]}, 1), record("caritas", key=2)]) == []
    # a consent naming a body the person is not known to keeps nothing
    assert kept_for_linkage_only([record("jobcenter", key=1), record("caritas", {"recipients": ["awo"]}, 2)]) == ["jobcenter-1"]


def test_a_record_owed_a_notice_stays_until_the_push_told_it() -> None:
    withdrawn = {"recipients": ["jobcenter"], "withdrawn_at": "2026-11-20"}
    assert kept_for_linkage_only([record("jobcenter", key=1), record("caritas", withdrawn, 2)], owed_notice=(1,)) == []
    assert kept_for_linkage_only([record("jobcenter", key=1), record("caritas", withdrawn, 2)]) == ["jobcenter-1"]


def test_after_a_death_no_transfer_needs_the_record() -> None:
    death = ({"kind": "tod", "on": "2026-10-01"},)
    consenting = record("caritas", {"recipients": ["jobcenter"]}, 2)
    assert kept_for_linkage_only([record("jobcenter", key=1), consenting, record("abh", key=3, events=death)]) == [
        "jobcenter-1",
        "abh-3",
    ]


# --- the closed list and hub.toml ---------------------------------------------------------------------------


def test_the_shipped_list_names_consent_and_statutes_for_linkage_only() -> None:
    shipped = shipped_legal_bases().values()
    assert [b.code for b in shipped if b.covers == "consent"] == ["consent"]
    assert all(b.code.startswith("statute:") and b.law and b.description for b in shipped if b.code != "consent")
    assert not any(b.covers_kim for b in shipped)  # the project knows no statute covering KIM case coordination


def test_init_declares_the_job_centre_and_the_authority_under_statutes_for_linkage_only_and_the_charities_under_consent() -> None:
    config = HubConfig(sources={name: default_source(name) for name in DEFAULT_SOURCES})
    bases = source_bases(config)
    assert bases.linkage_only == {"jobcenter", "abh"} and bases.covering == frozenset()
    assert {name: s.legal_basis for name, s in config.sources.items() if name not in ("jobcenter", "abh")} == dict.fromkeys(
        ("caritas", "awo", "diakonie", "stadt"), "consent"
    )
    assert config.sources["jobcenter"].linkage_only_days == 30


def test_hub_toml_carries_each_sources_basis_with_a_comment_and_reads_back(tmp_path) -> None:
    home = HubHome(tmp_path)
    config = HubConfig(
        sources={name: default_source(name) for name in DEFAULT_SOURCES},
        legal_bases={"statute:Landesgesetz § 1": "kim"},
    )
    config.sources["sozialamt"] = SourceConfig(legal_basis="statute:Landesgesetz § 1")
    config.sources["jobcenter"].linkage_only_days = 7
    home.save_config(config)
    text = home.config_file.read_text(encoding="utf-8")
    assert 'legal_basis = "statute:SGB II § 50"' in text and "linkage_only_days = 7" in text
    assert "# What the source delivers under" in text and "[legal_bases]" in text
    again = home.load_config()
    assert again == config
    assert source_bases(again).covering == {"sozialamt"}


def test_a_basis_is_matched_ignoring_case_and_spaces_and_an_unknown_one_is_refused(tmp_path) -> None:
    assert legal_basis("STATUTE: sgb ii §50").code == "statute:SGB II § 50"
    home = HubHome(tmp_path)
    home.save_config(HubConfig(sources={"jobcenter": default_source("jobcenter")}))
    text = home.config_file.read_text(encoding="utf-8")
    home.config_file.write_text(text.replace("statute:SGB II § 50", "statute:SGB II § 51a"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.jobcenter\.legal_basis: legal_basis must be one of") as refused:
        home.load_config()
    assert "51a" not in str(refused.value)  # the list is named, never what was typed
    added = HubConfig()
    added.sources["x"] = SourceConfig(legal_basis="Vertrag")  # set past validation, as `sources add` does
    with pytest.raises(ConfigError, match="legal_basis must be one of"):
        home.save_config(added)


@pytest.mark.parametrize(
    "declared",
    [{"Landesgesetz § 1": "kim"}, {"statute:Landesgesetz § 1": "alles"}, {"statute:SGB II §50": "kim"}, {"statute: ": "kim"}],
)
def test_an_installation_declares_only_new_statutes_covering_kim_or_linkage(declared: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="declared legal basis"):
        HubConfig(legal_bases=declared)


def test_render_without_statutes_writes_no_purge_period_for_consent_sources() -> None:
    text = render_config(HubConfig(sources={"caritas": default_source("caritas")}))
    assert 'legal_basis = "consent"' in text and "linkage_only_days" not in text
