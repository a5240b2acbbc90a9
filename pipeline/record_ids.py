"""Which sources' record ids the hub keeps encrypted, and the two forms of such an id.

Why per source, and not every record id encrypted: a charity's case number (``CV-1234567``) is
harmless in the database, and it is what a coordinator needs to see in the review list and the
links export to ask the charity about a case; a token there would make review work blind without
protecting anybody. The job centre's record id is its Kundennummer, an identifier of the person
(§ 51a SGB II), so that source's ids are kept only as encrypted tokens. The rule is the
``encrypt_record_ids`` setting of a source in hub.toml; when it is not set, the source's
connectors decide (``identifying_record_ids``: the job-centre export declares it), so a job-centre
source added by hand is encrypted too. `kim-hub init` writes ``encrypt_record_ids = true`` for the
default job-centre source. Whatever the setting, an id shaped like another identifier is refused
at the mapping (``mappings.record_ids``).

The forms: the database, the links export, the review list, audit entries and outbox file names
show the token; the hub opens it only to address a document to the body that owns the id (in the
body's own outbox and API) and to find the rows of its outbox tables again. An operator may name a
record by either form (``kim-hub erase --record-id``).

Changing the form: ``settle_record_ids`` (run by `kim-hub init`) encrypts the clear ids a
source holds once its ids are to be encrypted — an upgraded home, or a source switched on — in one
transaction, and renames its outbox documents. Switching encryption *off* for a source that holds
tokens is refused: its tokens stay (nothing is decrypted into the database), and its ingest stops
with a configuration error until the setting is restored. Every ingest checks that the stored
ids are in the source's form (``check_form``), so a clear id never lands next to tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.registry import load_connector
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.keystore import load_keys
from kim_hub.hub_db.record_ids import existing_ids, ids_not_in_form, rename_record_ids
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.record_ids import is_token
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig


def seals_record_ids(settings: SourceConfig) -> bool:
    """Does the hub keep this source's record ids only encrypted? (hub.toml, else its connectors)"""
    if settings.encrypt_record_ids is not None:
        return settings.encrypt_record_ids
    return any(getattr(load_connector(name), "identifying_record_ids", False) for name in settings.connectors)


@dataclass
class RecordIdForms:
    """Between the id a body knows and the id the hub stores, for every configured source.

    The keys are loaded only when a token must be made or opened, so a push that addresses no
    encrypting source never reads the key folder. Whether a source seals its ids is asked once
    per source: a push addresses every document, and asking the connectors each time scanned
    the installed packages' entry points per document (half of a first sync's CPU)."""

    config: HubConfig
    load: Callable[[], EncodingKeys]
    _keys: EncodingKeys | None = field(default=None, repr=False)
    _sealed: dict[str, bool] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, home: HubHome, config: HubConfig, keys: EncodingKeys | None = None) -> RecordIdForms:
        return cls(config, lambda: load_keys(home.key_dir(config)), keys)

    @property
    def keys(self) -> EncodingKeys:
        if self._keys is None:
            self._keys = self.load()
        return self._keys

    def sealed(self, source: str) -> bool:
        if source not in self._sealed:
            settings = self.config.sources.get(source)
            self._sealed[source] = settings is not None and seals_record_ids(settings)
        return self._sealed[source]

    def stored(self, source: str, record_id: str) -> str:
        """The id as the hub stores it: for an encrypting source the token (a token given is
        taken as it is when it opens: the links export shows tokens), else the id itself."""
        if not self.sealed(source):
            return record_id
        if is_token(record_id) and self.keys.open_record_id(source, record_id) is not None:
            return record_id
        return self.keys.seal_record_id(source, record_id)

    def address(self, source: str, stored: str) -> str | None:
        """The id the source knows its record by: the stored id, or for an encrypting source the
        token opened; None when it is not a token of ``source`` under the current key."""
        if not self.sealed(source):
            return stored
        return self.keys.open_record_id(source, stored) if is_token(stored) else None


def check_form(session: Session, source: str, sealed: bool) -> None:
    """Refuse (ConfigError) to ingest into a source whose stored ids are not in its form."""
    if next(ids_not_in_form(session, source, sealed), None) is None:
        return
    if sealed:
        raise ConfigError(
            f"source {source}: record ids are stored in clear but are to be encrypted; run 'kim-hub init' to encrypt them first"
        )
    raise ConfigError(
        f"source {source}: holds encrypted record ids but encrypt_record_ids is off; "
        "turning it off is not supported: set encrypt_record_ids = true again"
    )


@dataclass
class SettledIds:
    """What ``settle_record_ids`` did: per source, the ids encrypted (old → new, for the outbox)."""

    encrypted: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens_kept: dict[str, int] = field(default_factory=dict)  # sources with encryption off that hold tokens
    encodings_sealed: int = 0  # what the same `kim-hub init` sealed of the encodings stored in clear (pipeline.sealing)


def settle_record_ids(config: HubConfig, sessions: sessionmaker[Session], keys: EncodingKeys) -> SettledIds:
    """Encrypt the clear ids of every source whose ids are to be encrypted, in one transaction;
    count the tokens of sources whose encryption was switched off (left as they are).

    A clear id whose token is stored already (the same case delivered under both forms) cannot
    be merged here: nothing is changed and the ConfigError says which source to clear up."""
    settled = SettledIds()
    with sessions() as session, session.begin():
        for source, settings in config.sources.items():
            sealed = seals_record_ids(settings)
            wrong = [record_id for _pk, record_id in ids_not_in_form(session, source, sealed)]
            if not wrong:
                continue
            if not sealed:
                settled.tokens_kept[source] = len(wrong)
                continue
            renamed = {record_id: keys.seal_record_id(source, record_id) for record_id in wrong}
            if existing_ids(session, source, list(renamed.values())):
                raise ConfigError(
                    f"source {source}: some cases are stored both with a clear and an encrypted record id; "
                    "erase the clear ones (kim-hub erase) and run 'kim-hub init' again"
                )
            rename_record_ids(session, source, renamed)
            settled.encrypted[source] = renamed
    return settled
