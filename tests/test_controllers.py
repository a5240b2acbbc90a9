"""Several controllers on one platform (issue 20, item 5; SDM module 50), the pure side: the closed
lists of regimes and supervisors, the controllers `kim-hub init` declares, hub.toml's
[controllers] and each source's controller, and which audit log entries concern a controller.

The end-to-end proof (an incident told per controller, a controller's share of the log, through
the real CLI on SQLite and PostgreSQL) is tests/test_incident.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_chain import EntryContent
from kim_hub.hub_db.audit_share import Share, tally, whole_platform
from kim_hub.mappings.controllers import check_controller, default_controllers, regimes, supervisors
from kim_hub.pipeline.home import (
    DEFAULT_SOURCES,
    ControllerConfig,
    HubConfig,
    HubHome,
    default_config,
    default_source,
    render_config,
)
from kim_hub.pipeline.setup import add_source
from tests.support import Hub

SECRET = "Geheim-Haddad-1988"  # a value that must never be echoed by an error message

# --- the closed lists ------------------------------------------------------------------------------------------


def test_the_regimes_are_the_four_laws_each_with_its_breach_notification_rule() -> None:
    assert list(regimes()) == ["dsgvo-dsg-nrw", "sgb-x", "kdg", "dsg-ekd"]
    rules = {code: regime.notification for code, regime in regimes().items()}
    assert "Art. 33 DSGVO" in rules["dsgvo-dsg-nrw"] and "72 hours" in rules["dsgvo-dsg-nrw"]
    assert "§ 83a SGB X" in rules["sgb-x"]  # social data: the legal or specialist supervisor too
    assert "§ 33 KDG" in rules["kdg"] and "§ 32 DSG-EKD" in rules["dsg-ekd"]
    assert all(regime.name and regime.law for regime in regimes().values())


def test_each_supervisor_supervises_only_its_regimes() -> None:
    assert {code: s.regimes for code, s in supervisors().items()} == {
        "ldi-nrw": ("dsgvo-dsg-nrw", "sgb-x"),  # the municipality, the AWO; municipal social offices, Optionskommunen
        "bfdi": ("sgb-x",),  # the joint job centres
        "kdsz-dortmund": ("kdg",),  # Caritas
        "bfd-ekd": ("dsg-ekd",),  # Diakonie
    }
    assert "Dortmund" in supervisors()["kdsz-dortmund"].name and "EKD" in supervisors()["bfd-ekd"].name


COMPETENCE = {
    "the Catholic centre for a KDG body": ("kdg", "kdsz-dortmund", None),
    "the LDI NRW for a municipal social office": ("sgb-x", "ldi-nrw", None),
    "the BfDI for a charity under the KDG": (
        "kdg",
        "bfdi",
        "'bfdi' does not supervise the regime 'kdg' (competent: 'kdsz-dortmund')",
    ),
    "the EKD's supervisor for the city": ("dsgvo-dsg-nrw", "bfd-ekd", "(competent: 'ldi-nrw')"),
    "the BfDI for a body under the DSG NRW": ("dsgvo-dsg-nrw", "bfdi", "does not supervise"),
    "an unknown regime": (SECRET, "ldi-nrw", "regime must be one of 'dsgvo-dsg-nrw', 'sgb-x', 'kdg', 'dsg-ekd'"),
    "an unknown supervisor": ("kdg", SECRET, "supervisor must be one of 'ldi-nrw', 'bfdi', 'kdsz-dortmund', 'bfd-ekd'"),
}


@pytest.mark.parametrize("case", COMPETENCE)
def test_a_supervisor_must_be_competent_for_the_regime(case: str) -> None:
    regime, supervisor, refusal = COMPETENCE[case]
    if refusal is None:
        check_controller(regime, supervisor)
        return
    with pytest.raises(ValueError) as refused:
        check_controller(regime, supervisor)
    assert refusal in str(refused.value) and SECRET not in str(refused.value)


def test_init_declares_the_city_the_job_centre_and_each_charity_with_their_supervisors() -> None:
    shipped = {code: (c.regime, c.supervisor, c.default_for) for code, c in default_controllers().items()}
    assert shipped == {
        "stadt": ("dsgvo-dsg-nrw", "ldi-nrw", ("stadt", "abh")),  # the foreigners authority is a municipal office
        "jobcenter": ("sgb-x", "bfdi", ("jobcenter",)),
        "caritas": ("kdg", "kdsz-dortmund", ("caritas",)),
        "awo": ("dsgvo-dsg-nrw", "ldi-nrw", ("awo",)),
        "diakonie": ("dsg-ekd", "bfd-ekd", ("diakonie",)),
    }
    config = default_config()
    assert {name: source.controller for name, source in config.sources.items()} == {
        "abh": "stadt",
        "jobcenter": "jobcenter",
        "caritas": "caritas",
        "awo": "awo",
        "diakonie": "diakonie",
        "stadt": "stadt",
    }
    assert list(config.controllers) == ["stadt", "jobcenter", "caritas", "awo", "diakonie"]
    assert config.sources_of("stadt") == ["abh", "stadt"] and config.undeclared_sources == []


# --- hub.toml ---------------------------------------------------------------------------------------------------


def test_hub_toml_carries_the_controllers_and_each_sources_controller_with_comments_and_reads_back(tmp_path) -> None:
    home = HubHome(tmp_path)
    config = default_config()
    config.controllers["caritas"].contact = "datenschutz@caritas.example"
    home.save_config(config)
    text = home.config_file.read_text(encoding="utf-8")
    assert '[controllers.caritas]\nname = "Caritasverband"\nregime = "kdg"\nsupervisor = "kdsz-dortmund"' in text
    assert 'contact = "datenschutz@caritas.example"' in text and "# The controllers of the platform (SDM module 50)" in text
    assert text.count('controller = "stadt"') == 2 and "# The controller of this source's data" in text
    assert home.load_config() == config


def test_a_hub_toml_from_before_controllers_still_loads_and_its_sources_are_not_declared(tmp_path) -> None:
    home = HubHome(tmp_path)
    older = HubConfig(sources={name: default_source(name) for name in DEFAULT_SOURCES})  # no [controllers]
    home.config_file.write_text(render_config(older).replace("# controller = ", "# was: "), encoding="utf-8")
    loaded = home.load_config()
    assert loaded.controllers == {} and loaded.undeclared_sources == list(DEFAULT_SOURCES)
    assert "# [controllers.caritas]" in render_config(loaded), "the file shows how to declare one"


def write_config(home: HubHome, edit: str) -> None:
    """hub.toml of ``default_config`` with one textual edit, as an operator might make it."""
    text = render_config(default_config())
    old, new = edit.split(" => ")
    assert old in text
    home.config_file.write_text(text.replace(old, new, 1), encoding="utf-8")


REFUSED = {
    "a source naming an undeclared controller": (
        'controller = "awo" => controller = "' + SECRET + '"',
        "sources.awo.controller: names no controller declared under [controllers]",
    ),
    "a regime outside the list": ('regime = "kdg" => regime = "' + SECRET + '"', "controllers.caritas.regime"),
    "a supervisor outside the list": ('supervisor = "bfdi" => supervisor = "' + SECRET + '"', "supervisor must be one of"),
    "a supervisor not competent for the regime": (
        'supervisor = "kdsz-dortmund" => supervisor = "bfdi"',
        "'bfdi' does not supervise the regime 'kdg'",
    ),
    "a controller name outside the rule": (
        "[controllers.awo] => [controllers.AWO-" + SECRET + "]",
        "a controller's name must match",
    ),
    "a contact on two lines": (
        'supervisor = "bfd-ekd" => supervisor = "bfd-ekd"\ncontact = "a\\n' + SECRET + '"',
        "contact must be printable",
    ),
    "a controller without its supervisor": ('supervisor = "bfd-ekd" => ', "controllers.diakonie.supervisor: Field required"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_hub_toml_refuses_a_controller_outside_the_lists_without_echoing_the_value(tmp_path, case: str) -> None:
    edit, problem = REFUSED[case]
    home = HubHome(tmp_path)
    write_config(home, edit)
    with pytest.raises(ConfigError) as refused:
        home.load_config()
    assert problem in str(refused.value) and SECRET not in str(refused.value)


def test_a_controller_set_in_code_past_validation_is_refused_on_save(tmp_path) -> None:
    config = default_config()
    config.sources["awo"].controller = SECRET
    with pytest.raises(ConfigError) as refused:
        HubHome(tmp_path).save_config(config)
    assert "names no controller declared" in str(refused.value) and SECRET not in str(refused.value)
    with pytest.raises(ValueError):
        ControllerConfig(name="Caritas", regime="kdg", supervisor="ldi-nrw")


def test_sources_add_takes_a_declared_controller_and_refuses_another(hub: Hub) -> None:
    config = add_source(hub.home, "malteser", "provider-csv", controller="caritas")
    assert config.sources["malteser"].controller == "caritas"
    assert hub.home.load_config().sources_of("caritas") == ["caritas", "malteser"]
    with pytest.raises(ConfigError) as refused:
        add_source(hub.home, "johanniter", "provider-csv", controller=SECRET)
    assert "declared: 'stadt', 'jobcenter', 'caritas', 'awo', 'diakonie'" in str(refused.value)
    assert SECRET not in str(refused.value) and "johanniter" not in hub.home.load_config().sources
    assert add_source(hub.home, "johanniter", "provider-csv").sources["johanniter"].controller is None


# --- which entries concern a controller --------------------------------------------------------------------------

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
CARITAS = Share(frozenset({"caritas"}), frozenset({"person:" + "a" * 32}))
TOKEN = "0" * 32


def entry(channel: str, action: str, objects: tuple[str, ...] = (), detail: dict | None = None, seq: int = 1) -> EntryContent:
    return EntryContent(channel, seq, AT, "os:test", action, objects, detail=detail or {})


CONCERNS = {
    "a delivery of its own": (entry("input", "ingest.file", (f"file:caritas:{'f' * 64}",)), "own"),
    "a delivery of another body": (entry("input", "ingest.file", (f"file:diakonie:{'f' * 64}",)), None),
    "a read naming one of its records": (entry("read", "review.list", ("review:1", f"record:caritas:{TOKEN}")), "own"),
    "a read naming only a person it holds": (entry("read", "report.write", ("person:" + "a" * 32,)), "own"),
    "a read naming only a person it does not hold": (entry("read", "report.write", ("person:" + "b" * 32,)), None),
    "a read of another body's records": (entry("read", "review.list", ("review:1", f"record:diakonie:{TOKEN}")), None),
    "a transfer it received": (
        entry("transfer", "transfer.summary", (f"record:caritas:{TOKEN}", f"record:jobcenter:{TOKEN}"), {"recipient": "caritas"}),
        "own",
    ),
    "a transfer drawn on its record": (
        entry(
            "transfer", "transfer.summary", (f"record:jobcenter:{TOKEN}", f"record:caritas:{TOKEN}"), {"recipient": "jobcenter"}
        ),
        "own",
    ),
    "a transfer under its consent": (
        entry("transfer", "transfer.summary", (), {"recipient": "jobcenter", "consents": [{"source": "caritas"}]}),
        "own",
    ),
    "a purge of its delivered copies": (entry("change", "copies.purge", (), {"source": "caritas", "archive_purged": 1}), "own"),
    "a purge of another body's copies": (entry("change", "copies.purge", (), {"source": "awo", "archive_purged": 1}), None),
    "an export of the whole index": (entry("read", "links.export", ("index",), {"records": 3}), "platform"),
    "a restore of the database": (entry("admin", "database.restore", (), {"entries_lost": 0}), "platform"),
    "a key rotation": (entry("admin", "keys.rotate", (), {"records": 4}), "platform"),
    "a review item alone": (entry("change", "review.decide", ("review:1",)), None),
}


@pytest.mark.parametrize("case", CONCERNS)
def test_which_entries_concern_a_controller(case: str) -> None:
    found, expected = CONCERNS[case]
    assert CARITAS.concerns(found) == expected
    assert whole_platform(found) is (expected == "platform")


def test_a_window_is_counted_per_source_as_distinct_objects() -> None:
    c1, c2, d1, j1 = (
        f"record:caritas:{'1' * 32}",
        f"record:caritas:{'2' * 32}",
        f"record:diakonie:{'3' * 32}",
        f"record:jobcenter:{'4' * 32}",
    )
    counted = tally(
        [
            entry("input", "ingest.file", (f"file:caritas:{'f' * 64}",), {"accepted": 2}, 1),
            entry("input", "ingest.file", (f"file:caritas:{'f' * 64}",), {"accepted": 0}, 2),  # the same file again
            entry("read", "review.list", ("review:1", c1, c2, "person:" + "a" * 32), {}, 1),
            entry("read", "review.list", ("review:1", c1, c2), {}, 2),  # read twice: still two records
            entry("change", "erase.records", (d1,), {"records": 1}, 1),
            entry("change", "copies.purge", (), {"source": "diakonie", "archive_purged": 1, "failed_purged": 0}, 2),
            entry("transfer", "transfer.summary", (j1, c1), {"recipient": "jobcenter", "categories": ["case"]}, 1),
            entry("read", "links.export", ("index",), {}, 3),
        ]
    )
    caritas, diakonie, jobcenter = (counted.sources[s] for s in ("caritas", "diakonie", "jobcenter"))
    assert (len(caritas.files_in), caritas.records_in, len(caritas.records_read)) == (1, 2, 2)
    assert (len(caritas.records_sent), caritas.categories_sent, len(caritas.records_received)) == (1, {"case"}, 0)
    assert (len(jobcenter.records_received), jobcenter.categories_received, len(jobcenter.records_sent)) == (1, {"case"}, 0)
    assert (len(diakonie.records_erased), diakonie.copies_removed, len(diakonie.entries)) == (1, 1, 2)
    assert counted.persons_read == {"person:" + "a" * 32} and counted.platform == {"links.export": 1}
    assert counted.entries == 8 and len(caritas.entries) == 5
