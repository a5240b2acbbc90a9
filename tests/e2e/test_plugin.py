"""A municipality's own connector, installed as a package, runs a real sync without any hub edit.

The test plug-in (``tests/plugins/kim_hub_sozialamt``: a connector and a mapping for a JSON Lines
export the hub has never seen) is put on the CLI's path like an installed package; a source is
added for it with `kim-hub sources add`, its example delivery lands through a real Prefect sync
run, and its records link with the same persons' records from a provider CSV.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import pytest

from kim_hub.connectors.base import ExamplePerson
from kim_hub.connectors.provider_csv import ProviderCsvConnector
from tests.support import PLUGINS, init_home, run_cli, settle

pytestmark = pytest.mark.e2e

PERSONS = (
    ExamplePerson("1", "Haddad", "Samira", "1988-03-14"),
    ExamplePerson("2", "Testova", "Marta", "1975-11-02"),
    ExamplePerson("3", "Beispielenko", "Oksana", "1979-06-21"),
)


PLUGIN_ON_PATH = {"PYTHONPATH": str(PLUGINS)}  # as if the plug-in package were installed


def _cli(*args: str, home: Path, api: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, check=False, env=PLUGIN_ON_PATH, api=api)


def test_a_plug_in_connector_lands_and_links_its_own_format(tmp_path: Path, prefect_api: str) -> None:
    from kim_hub_sozialamt import SozialamtConnector  # on the path through pytest's pythonpath

    home = tmp_path / "home"
    init_home(home, env=PLUGIN_ON_PATH)  # the fixed test key
    added = _cli("sources", "add", "sozialamt", "--connector", "sozialamt-jsonl", home=home)
    assert added.returncode == 0, added.stderr
    assert "sozialamt-jsonl" in _cli("sources", "list", home=home).stdout
    checked = _cli("sources", "check", home=home)
    assert re.search(r"^ok +sozialamt +connector sozialamt-jsonl +installed$", checked.stdout, re.M), checked.stdout

    settle(SozialamtConnector.example_delivery(home / "inbox" / "sozialamt", PERSONS))
    caritas = [ExamplePerson(f"C-{p.record_id}", p.family_name, p.given_names, p.birth_date) for p in PERSONS]
    settle(ProviderCsvConnector.example_delivery(home / "inbox" / "caritas", caritas))
    ingest = _cli("ingest", home=home, api=prefect_api)  # the session's Prefect server
    assert ingest.returncode == 0, ingest.stderr[-3000:]

    rows = list(csv.DictReader(io.StringIO(_cli("links", home=home).stdout)))
    person = {(r["source"], r["record_id"]): r["person_id"] for r in rows}
    assert {record for source, record in person if source == "sozialamt"} == {"AS-1", "AS-2", "AS-3"}
    for p in PERSONS:
        assert person[("sozialamt", f"AS-{p.record_id}")] == person[("caritas", f"C-{p.record_id}")]
