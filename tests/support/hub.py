"""``Hub``: a hub home opened in the test process, and what tests keep doing with it.

The ``hub`` fixture (tests/conftest.py) yields one per database backend. It runs the pipeline's
plain functions (no Prefect, no subprocess): what ``kim-hub ingest`` does, minus the flow.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.hub_db.keystore import load_keys
from kim_hub.hub_db.master_index import LinkOutcome
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline.database import auditor_for, keyring_for
from kim_hub.pipeline.home import HubConfig, HubHome, default_config
from kim_hub.pipeline.ingest import SourceOutcome, ingest_source
from kim_hub.pipeline.linking import link_index
from kim_hub.pipeline.links import link_rows
from kim_hub.pipeline.push import PushOutcome, push_all
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.setup import initialise
from tests.support.data import HEADER
from tests.support.files import csv_text, deliver
from tests.support.keys import plant_test_key


@dataclass
class Hub:
    """A home with every default source, its configuration, database sessions and encoding keys.

    ``keys`` are the home's current keys, made from the fixed test key (tests.support.keys), so
    linkage outcomes are the same on every run.
    """

    home: HubHome
    config: HubConfig
    sessions: sessionmaker[Session]
    keys: EncodingKeys
    engine: Engine = field(repr=False)

    @classmethod
    def create(cls, path: Path, database_url: str) -> Hub:
        """Create a home at ``path`` on ``database_url`` (an empty database), as ``kim-hub init`` would."""
        home = HubHome(path)
        home.path.mkdir(parents=True)
        wanted = default_config(database_url)  # the default sources under their controllers, as init writes them
        home.save_config(wanted)
        plant_test_key(home.key_dir(wanted))
        config = initialise(home)
        engine = make_engine(home.database_url(config))
        sessions = session_factory(
            engine, auditor_for(home, config), keyring_for(home, config)
        )  # as pipeline.database opens them
        return cls(home, config, sessions, load_keys(home.key_dir(config)), engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @property
    def path(self) -> Path:
        """The home folder."""
        return self.home.path

    # --- deliveries -----------------------------------------------------------------------------------

    def drop(self, source: str, name: str, content: str | bytes) -> Path:
        """A settled delivery ``name`` with ``content`` in the source's inbox (tests.support.files)."""
        return deliver(self.home.inbox(source), name, content)

    def drop_rows(self, source: str, name: str, rows: Sequence[str], header: str = HEADER) -> Path:
        """A settled CSV delivery: ``header`` (default: the provider header of tests.support.data), then ``rows``."""
        return self.drop(source, name, csv_text(rows, header))

    def use_districts(self, text: str, name: str = "codes/districts.csv") -> Path:
        """Give the home its own district list (CSV ``text``), named in hub.toml (``[codes] districts``)."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.config = self.config.model_copy(update={"codes": self.config.codes.model_copy(update={"districts": name})})
        self.home.save_config(self.config)
        return path

    # --- the pipeline -------------------------------------------------------------------------------------

    def ingest(self, source: str, keys: EncodingKeys | None = None) -> SourceOutcome:
        """One source's ingest cycle (``keys``: other than the home's, e.g. after a rotation)."""
        return ingest_source(self.home, self.config, source, keys or self.keys, self.sessions)

    def ingest_all(self) -> dict[str, SourceOutcome]:
        """Every configured source's ingest cycle, in configuration order."""
        return {source: self.ingest(source) for source in self.config.sources}

    def link(self) -> LinkOutcome:
        """Link the new and changed records into the master index."""
        return link_index(self.sessions, self.config)

    def sync(self) -> LinkOutcome:
        """What a sync run does without Prefect: ingest every source, then link."""
        self.ingest_all()
        return self.link()

    def push(self, today: dt.date) -> PushOutcome:
        """Push summaries, notices and corrections as on ``today``."""
        return push_all(self.home, self.config, self.sessions, today)

    # --- what came out ---------------------------------------------------------------------------------------

    def pseudonyms(self) -> dict[tuple[str, str], str | None]:
        """(source, record id) → the person's pseudonym, for every stored record (None: not linked yet)."""
        return {(source, record_id): person for source, record_id, person, _status, _score in link_rows(self.home)}

    def stored_id(self, source: str, record_id: str) -> str:
        """The id as the hub stores and shows it: the token for a source whose ids are kept
        encrypted (the job centre's), else the id itself (pipeline.record_ids)."""
        return RecordIdForms.of(self.home, self.config, self.keys).stored(source, record_id)

    def receipt(self, source: str, name: str) -> dict:
        """The JSON receipt the hub wrote for the delivery ``name`` of ``source``."""
        return json.loads((self.home.outbox(source, "receipts") / f"{name}.receipt.json").read_text(encoding="utf-8"))
