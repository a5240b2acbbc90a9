"""The hub's home folder and its typed configuration (hub.toml).

Everything an installation owns lives under one folder, so that backing up, moving or deleting an
installation is one operation and nothing leaks into the operator's home directory:

    hub.toml            configuration (this module's HubConfig; mode 0600, replaced atomically)
    inbox/<source>/     where providers drop their export files (a source name is one plain
                        path component: ^[a-z0-9][a-z0-9_-]{0,63}$, see SOURCE_NAME_RULE)
    processing/, archive/, failed/<source>/   a file's way after the inbox (archive_days, failed_days)
    outbox/<source>/receipts/                 receipts for the provider (receipt_days)
    outbox/<source>/summaries/                summaries for the body
    var/hub.db          the embedded SQLite database (any SQLAlchemy URL can replace it)
    var/erasures.ledger the erasure ledger: tombstones, kept apart from the database (erasure_ledger)
    var/prefect/        Prefect's own state (PREFECT_HOME), never ~/.prefect
    keys/               the secret key (0700 folder, 0600 files; hub_db.keystore refuses others)
    reports/            run summaries
    codes/              (optional) the installation's own code lists, e.g. codes/districts.csv,
                        named in hub.toml under [codes]

Only a body's inbox and outbox are open to anyone but the hub's account, and only to the body's
group (pipeline.home_access; runtime.file_modes lists the modes).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_chain import CHANNELS
from kim_hub.mappings.controllers import check_controller, default_controller_for, default_controllers, regime, supervisor
from kim_hub.mappings.identifier_policy import identifier_policy
from kim_hub.mappings.legal_bases import CONSENT, basis_key, check_declared, default_legal_basis, legal_basis
from kim_hub.mappings.vocabulary import DEFAULT_BODIES
from kim_hub.pipeline.private_files import replacing

DEFAULT_HOME = "./kim-home"
HOME_ENV = "KIM_HUB_HOME"
CONFIG_FILE = "hub.toml"
DEFAULT_SOURCES = DEFAULT_BODIES  # the mappings know them as consent recipients without an installation

SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
SOURCE_NAME_RULE = (
    "a source name must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters a-z, digits, '-' and '_', "
    "starting with a letter or a digit, at most 64 characters)"
)

CONTROLLER_NAME_RULE = (
    "a controller's name must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters a-z, digits, '-' and '_', "
    "starting with a letter or a digit, at most 64 characters)"
)
CONTACT_CHARS = 254  # an e-mail address at its longest

GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
GROUP_NAME_RULE = "a group name must match ^[A-Za-z_][A-Za-z0-9_.-]{0,31}$ (as groupadd takes it)"


def is_source_name(name: str) -> bool:
    """Whether ``name`` may name a source. A source's name becomes a folder name under the home
    (inbox/, processing/, archive/, failed/, outbox/) and a bare key in hub.toml, so it must be
    one plain path component and one plain TOML key: no separator, no dot, no case to fold."""
    return SOURCE_NAME.fullmatch(name) is not None


def check_source_name(name: str, where: str) -> str:
    """``name`` if it follows the rule, else a ConfigError naming the rule (never the name: it
    can be anything the operator typed, quoted back into logs)."""
    if not is_source_name(name):
        raise ConfigError(f"{where}: {SOURCE_NAME_RULE}")
    return name


def check_group_name(name: str, where: str) -> str:
    """``name`` if it may name a body's OS group, else a ConfigError naming the rule (not the name)."""
    if GROUP_NAME.fullmatch(name) is None:
        raise ConfigError(f"{where}: {GROUP_NAME_RULE}")
    return name


def _source_names(names: Any) -> Any:
    """The pydantic side of the rule (hub.toml on load, a HubConfig built in code): checked
    before the sources themselves, so that no error's location quotes a name outside it."""
    if isinstance(names, dict | list) and not all(isinstance(n, str) and is_source_name(n) for n in names):
        raise ValueError(SOURCE_NAME_RULE)
    return names


class SourceConfig(BaseModel):
    """One delivering body and how its data reaches the hub."""

    connectors: list[str] = Field(
        default_factory=lambda: ["provider-csv"],
        min_length=1,
        description="registered connectors, tried in order: the first that accepts a file reads it",
    )
    settle_seconds: float = Field(
        default=30.0, ge=0, description="a file must be unchanged this long (and at a second look) before it is read"
    )
    archive_days: float = Field(default=30, ge=0, description="keep processed files in archive/ this many days")
    failed_days: float = Field(default=30, ge=0, description="keep files rejected whole or set aside in failed/ this many days")
    receipt_days: float | None = Field(
        default=None,
        ge=0,
        description="keep receipts in outbox/<source>/receipts/ this many days; empty = as long as their delivery "
        "(archive_days, or failed_days for a delivery rejected whole or set aside)",
    )
    schedule: str = Field(default="*/15 * * * *", description="cron schedule of this source's sync runs (kim-hub serve)")
    retention_days: float | None = Field(
        default=None, ge=0, description="erase a record this many days after its case closed; empty = keep"
    )
    azr_authoritative: bool = Field(
        default=False,
        description="this source keeps the AZR register (the foreigners authority): different numbers = different people",
    )
    group: str | None = Field(
        default=None,
        description="OS group of the body's inbox and outbox (its account's way in); empty = kim-<source>",
    )
    encrypt_record_ids: bool | None = Field(
        default=None,
        description=(
            "keep this source's record ids only encrypted (AES-SIV token in the database, links export, review "
            "list and outbox file names); empty = as its connectors declare (the job-centre export: yes)"
        ),
    )
    body_kind: str | None = Field(
        default=None,
        description=(
            "what the body is, for the identifier policy: authority, jobcentre, asylblg_office, municipality or "
            "charity (mappings/identifier_policy.toml); empty = none declared, which takes no identifier"
        ),
    )
    identifiers: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "identifier kind → the legal basis this source delivers it under (azr_number, jobcenter_customer_no, "
            "bg_number); a kind not named here is dropped at intake with a note on the receipt"
        ),
    )
    legal_basis: str = Field(
        default=CONSENT,
        max_length=120,
        description="what the source delivers under: consent (each record's consent decides), or a statute of "
        "mappings/codes/legal_bases.csv or of [legal_bases] (e.g. statute:SGB II § 50)",
    )
    linkage_only_days: float = Field(
        default=30,
        ge=0,
        description="under a statute for linkage only: erase a record of a person the hub may not hold for KIM this "
        "many days after it arrived",
    )
    controller: str | None = Field(
        default=None,
        max_length=64,
        description="the controller this source's data belongs to (a name under [controllers]); empty = not declared, "
        "which `kim-hub incident` and `kim-hub audit --controller` report as such",
    )
    summaries: Literal["deliver", "collect"] = Field(
        default="deliver",
        description="how the body receives its summaries and notices: deliver = the hub delivers them (to the "
        "body's API when one of its connectors pushes, else as files in outbox/<source>/summaries/); collect = "
        "the hub holds them for the body to collect and acknowledge over the hub's API (no outbox files, no push "
        "to its API; pipeline.api_collect)",
    )
    options: dict[str, str] = Field(default_factory=dict, description="connector-specific options")
    contract: dict[str, Literal["drop_value", "keep_with_warning", "reject_row"]] = Field(
        default_factory=dict,
        description="field contract, tightened for this source: column → what a flawed value costs (mappings/contract.py)",
    )

    @field_validator("group")
    @classmethod
    def check_group_name(cls, group: str | None) -> str | None:
        """A plain group name as useradd/groupadd take it (it is looked up, never run or quoted)."""
        if group is not None and GROUP_NAME.fullmatch(group) is None:
            raise ValueError(GROUP_NAME_RULE)
        return group

    @model_validator(mode="after")
    def check_identifiers(self) -> SourceConfig:
        """The body kind and legal bases are ones the identifier policy allows (a charity cannot
        name a basis for AZR numbers, nobody for a tax id): refused on load, before any intake."""
        identifier_policy().taken_kinds(self.body_kind, self.identifiers)
        return self

    @property
    def collects(self) -> bool:
        """Does the body collect its documents over the hub's API (``summaries = "collect"``)?"""
        return self.summaries == "collect"

    @property
    def taken_identifiers(self) -> frozenset[str]:
        """The identifier kinds this source may deliver (mappings.identifier_policy)."""
        return identifier_policy().taken_kinds(self.body_kind, self.identifiers)


def default_source(name: str) -> SourceConfig:
    """What `kim-hub init` configures: the authority's XML and the job centre's export where they
    apply, the standard provider CSV everywhere (also accepted from the authority and job centre);
    the job centre's record ids (Kundennummern) kept encrypted, whichever format brings them; each
    default body's kind and the legal bases named for it (``defaults`` of the identifier policy);
    what it delivers under (``default_for`` of the legal bases)."""
    native = {"abh": ["abh-xml"], "jobcenter": ["jobcenter-export"]}.get(name, [])
    declared = identifier_policy().defaults.get(name)
    return SourceConfig(
        connectors=[*native, "provider-csv"],
        azr_authoritative=name == "abh",
        encrypt_record_ids=True if name == "jobcenter" else None,  # its record id is the Kundennummer
        body_kind=declared.body_kind if declared else None,
        identifiers=dict(declared.identifiers) if declared else {},
        legal_basis=default_legal_basis(name),  # mappings/codes/legal_bases.csv: default_for
    )


def _printable(text: str | None, what: str) -> str | None:
    if text is not None and not text.isprintable():
        raise ValueError(f"{what} must be printable text on one line")
    return text


class ControllerConfig(BaseModel):
    """One controller of the platform (SDM module 50): a body that stays controller of its own
    sources' data, under its regime and supervisor (``mappings.controllers``)."""

    name: str = Field(min_length=1, max_length=200, description="the controller's name, for people (reports, incidents)")
    regime: str = Field(
        description="its data-protection law: dsgvo-dsg-nrw, sgb-x, kdg or dsg-ekd (mappings/codes/data_protection_regimes.csv)"
    )
    supervisor: str = Field(
        description="its supervisory authority: ldi-nrw, bfdi, kdsz-dortmund or bfd-ekd "
        "(mappings/codes/supervisory_authorities.csv); it must be competent for the regime"
    )
    contact: str | None = Field(
        default=None,
        max_length=CONTACT_CHARS,
        description="the functional address of its data-protection officer (datenschutz@…), never a person's own",
    )

    @field_validator("name")
    @classmethod
    def check_name(cls, name: str) -> str:
        return _printable(name, "name") or name

    @field_validator("contact")
    @classmethod
    def check_contact(cls, contact: str | None) -> str | None:
        return _printable(contact, "contact")

    @field_validator("regime")
    @classmethod
    def check_regime(cls, code: str) -> str:
        """A regime of the closed list (the message names the known codes, never the value)."""
        return regime(code).code

    @field_validator("supervisor")
    @classmethod
    def check_supervisor(cls, code: str) -> str:
        """A supervisory authority of the closed list."""
        return supervisor(code).code

    @model_validator(mode="after")
    def check_competence(self) -> ControllerConfig:
        """The supervisor must be competent for the regime (the BfDI supervises no charity)."""
        check_controller(self.regime, self.supervisor)
        return self


def default_controller(code: str) -> ControllerConfig:
    """A controller of ``mappings/codes/controllers.csv`` as `kim-hub init` declares it."""
    shipped = default_controllers()[code]
    return ControllerConfig(name=shipped.name, regime=shipped.regime, supervisor=shipped.supervisor)


def default_config(database_url: str = "") -> HubConfig:
    """What `kim-hub init` writes: every default source (``default_source``) under its default
    controller (``default_for`` of ``mappings/codes/controllers.csv``), and those controllers."""
    sources = {name: default_source(name) for name in DEFAULT_SOURCES}
    for name, source in sources.items():
        source.controller = default_controller_for(name)
    used = {source.controller for source in sources.values() if source.controller}
    controllers = {code: default_controller(code) for code in default_controllers() if code in used}
    return HubConfig(database_url=database_url, sources=sources, controllers=controllers)


class LinkageConfig(BaseModel):
    """Decision thresholds, as match probabilities (the model's weights are learnt, not set)."""

    auto_link_probability: float = Field(default=0.7, gt=0, lt=1, description="link automatically at or above")
    review_probability: float = Field(default=0.3, gt=0, lt=1, description="queue for review at or above")
    reestimate_growth: float = Field(
        default=0.2, ge=0, description="re-learn the model when the index grew by this share since the last estimate"
    )
    name_equivalence_persons: int = Field(
        default=2,
        ge=0,
        description="learn two given names as one (a call name) once pairs of this many persons confirm it; 0: never",
    )
    household_census: bool = Field(
        default=True,
        description="let household evidence alone link where the index's own census shows it is one person "
        "(linkage.household); false: only reviewers' decisions on the twins' pattern let anything go",
    )


class SchedulesConfig(BaseModel):
    """Cron schedules of the maintenance flows that `kim-hub serve` registers."""

    retention: str = Field(default="30 2 * * *", description="erase records past their retention period")
    reestimate: str = Field(default="0 3 * * 0", description="re-learn the linkage model")
    push: str = Field(
        default="0 6 * * *", description="send due summaries and notices (consents that began or ended since the last sync)"
    )
    report: str = Field(default="0 7 * * *", description="write the coordinators' report")


class ExchangeConfig(BaseModel):
    """The exchange of case summaries between the bodies."""

    authority_route_open: bool = Field(
        default=False,
        description="send summaries to the foreigners authority (also needs a consent naming abh explicitly)",
    )
    case_management_sources: list[str] = Field(
        default_factory=lambda: ["caritas", "awo", "diakonie", "stadt"],
        description="bodies whose active case means a person is picked up (for chain gaps)",
    )
    gap_days: int = Field(default=30, ge=0, description="a trigger without an active case this long is a gap")
    purposes: list[str] = Field(
        default_factory=lambda: ["kim"],
        description="consent purposes the exchange serves; a consent for another purpose covers no transfer",
    )

    @field_validator("case_management_sources", mode="before")
    @classmethod
    def check_source_names(cls, names: Any) -> Any:
        """These name sources: a name outside the rule could never match one."""
        return _source_names(names)


class CodesConfig(BaseModel):
    """The installation's own code lists (``mappings.vocabulary``)."""

    districts: str = Field(
        default="",
        max_length=4096,
        description="CSV file of the city's districts (code,label,aliases), relative to the home; empty = the shipped list",
    )


READ_LOG_DAYS = 183  # six months: § 79 Abs. 4 SGB X for the logs of automated retrieval


class AuditConfig(BaseModel):
    """The audit log: how long each channel keeps its entries, and whether reads need a purpose."""

    retention_days: dict[str, float] = Field(
        default_factory=lambda: {"read": float(READ_LOG_DAYS)},
        description="days each channel (read, change, input, transfer, admin) keeps its entries; a channel not named keeps them",
    )
    require_purpose: bool = Field(
        default=False, description="reading commands refuse to run without --purpose (else each records its own default)"
    )

    @field_validator("retention_days")
    @classmethod
    def check_channels(cls, days: dict[str, float]) -> dict[str, float]:
        """Only the log's channels, each at least one day."""
        if not set(days) <= set(CHANNELS):
            raise ValueError(f"retention_days names a channel that is not one of {', '.join(CHANNELS)}")
        if any(value < 1 for value in days.values()):
            raise ValueError("retention_days: each period must be at least 1 day")
        return days


class RetentionConfig(BaseModel):
    """Periods of the data categories that belong to no one source (`kim-hub retention --plan`
    lists every category with its rule; the per-source periods are under [sources.*])."""

    reports_days: float | None = Field(
        default=None,
        ge=0,
        description="delete a file in reports/ this many days after it was last written; empty = keep",
    )


WEB_ROLES = ("reviewer", "coordinator", "provider", "operator", "auditor")
EVERY_BODY = "*"  # an organisation mapping's target that grants every body (like an account without --org)
CLAIM_PATH = re.compile(r"[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*")
OIDC_CALLBACK_PATH = "/sign-in/oidc/callback"
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _web_url(url: str, what: str) -> str:
    """https, or http only to this machine itself (a test provider, a development set-up)."""
    if re.fullmatch(r"https://[^\s/?#]+(/[^\s?#]*)?", url):
        return url
    if re.fullmatch(r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?(/[^\s?#]*)?", url):
        return url
    raise ValueError(f"{what} must be an https:// address (http:// only for localhost), without query or fragment")


class OidcConfig(BaseModel):
    """Sign-in through the installation's OpenID provider (Keycloak): authorization code flow with
    PKCE. The client secret is not kept here: it is read from the environment variable
    ``client_secret_env`` or, failing that, from the 0600 file ``client_secret_file`` under the key
    folder (``pipeline.web_oidc``)."""

    issuer: str = Field(description="the provider's issuer, e.g. https://sso.example/realms/kim (discovery below it)")
    client_id: str = Field(min_length=1, max_length=255, description="the client registered for the hub")
    redirect_url: str = Field(description=f"this application's address + {OIDC_CALLBACK_PATH}, as registered")
    display_name: str = Field(default="Single sign-on", min_length=1, max_length=60, description="the sign-in button says this")
    public_client: bool = Field(default=False, description="no client secret (PKCE only); else the secret is required")
    client_secret_env: str = Field(default="KIM_HUB_OIDC_CLIENT_SECRET", pattern=r"^[A-Z_][A-Z0-9_]*$")
    client_secret_file: str = Field(default="oidc-client-secret", pattern=r"^[A-Za-z0-9_.-]+$", description="under key_dir")
    scopes: list[str] = Field(default_factory=lambda: ["openid"], description="asked for; openid is always among them")
    role_claim: str = Field(default="realm_access.roles", description="dotted path of the claim carrying the roles")
    roles: dict[str, str] = Field(default_factory=dict, description="claim value → kim-hub role")
    organisation_claim: str = Field(default="", description="dotted path of the bodies' claim; empty = every body")
    organisations: dict[str, str] = Field(
        default_factory=dict, description=f"claim value → source name or {EVERY_BODY!r}; empty = the values are source names"
    )
    district_claim: str = Field(default="", description="dotted path of the districts' claim; empty = none")

    @field_validator("issuer")
    @classmethod
    def check_issuer(cls, url: str) -> str:
        return _web_url(url, "web.oidc.issuer")  # kept as written: the ID token's iss must equal it exactly

    @field_validator("redirect_url")
    @classmethod
    def check_redirect(cls, url: str) -> str:
        _web_url(url, "web.oidc.redirect_url")
        if not url.endswith(OIDC_CALLBACK_PATH):
            raise ValueError(f"web.oidc.redirect_url must end with {OIDC_CALLBACK_PATH} (the application's callback)")
        return url

    @field_validator("scopes")
    @classmethod
    def check_scopes(cls, scopes: list[str]) -> list[str]:
        if any(not re.fullmatch(r"[!#-\[\]-~]+", scope) for scope in scopes):
            raise ValueError("web.oidc.scopes: each scope is one word of printable ASCII")
        return ["openid", *(s for s in scopes if s != "openid")]

    @field_validator("role_claim", "organisation_claim", "district_claim")
    @classmethod
    def check_claim_path(cls, path: str) -> str:
        if path and not CLAIM_PATH.fullmatch(path):
            raise ValueError("a claim is named by a dotted path of letters, digits, _ : and -, e.g. realm_access.roles")
        return path

    @field_validator("roles")
    @classmethod
    def check_roles(cls, roles: dict[str, str]) -> dict[str, str]:
        if not roles:
            raise ValueError("web.oidc.roles must map at least one claim value to a role")
        if not set(roles.values()) <= set(WEB_ROLES):
            raise ValueError(f"web.oidc.roles: each value must be one of {', '.join(WEB_ROLES)}")
        return roles

    @field_validator("organisations")
    @classmethod
    def check_organisations(cls, organisations: dict[str, str]) -> dict[str, str]:
        if any(body != EVERY_BODY and not is_source_name(body) for body in organisations.values()):
            raise ValueError(f"web.oidc.organisations: each value is a source name or {EVERY_BODY!r}")
        return organisations


class ClientCertificate(BaseModel):
    """A body that signs in to the API with its client certificate (mutual TLS, `kim-hub web
    --client-ca`) instead of a token: the certificate's subject, the body it acts for and what it
    may do (the scopes of ``kim-hub tokens``)."""

    subject: str = Field(
        min_length=3,
        max_length=1024,
        description="the certificate's subject as the hub reads it: its RDNs in order, e.g. CN=caritas-software,O=Caritas",
    )
    body: str = Field(description="the source name the certificate acts for")
    scopes: list[Literal["deliver", "receipts", "collect"]] = Field(min_length=1)


class ApiConfig(BaseModel):
    """The providers' HTTP API (``/api/v1`` of `kim-hub web`): its limits, and the client
    certificates that stand for a body."""

    max_request_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="largest request body (a delivery) in bytes; larger answers 413"
    )
    async_bytes: int = Field(
        default=1024 * 1024,
        ge=0,
        description="a delivery larger than this is ingested after the answer: 202 with the receipt's address to poll",
    )
    requests_per_minute: int = Field(
        default=120, ge=1, description="calls per token and minute; more answer 429 with Retry-After"
    )
    daily_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="bytes a body may deliver per day (UTC); more answer 429 with Retry-After"
    )
    client_certificates: list[ClientCertificate] = Field(default_factory=list)


class WebConfig(BaseModel):
    """The web application (`kim-hub web`)."""

    oidc: OidcConfig | None = Field(default=None, description="sign-in through an OpenID provider; none = local accounts only")


class HubConfig(BaseModel):
    """hub.toml, validated."""

    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in var/hub.db")
    key_dir: str = Field(default="keys", description="folder of the key files, relative to the home")
    erasure_ledger: str = Field(
        default="var/erasures.ledger",
        min_length=1,
        max_length=4096,
        description="the erasure ledger (tombstones of erased records), relative to the home; kept apart from the "
        "database and never restored with it",
    )
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    linkage: LinkageConfig = LinkageConfig()
    schedules: SchedulesConfig = SchedulesConfig()
    exchange: ExchangeConfig = ExchangeConfig()
    codes: CodesConfig = CodesConfig()
    audit: AuditConfig = AuditConfig()
    retention: RetentionConfig = RetentionConfig()
    web: WebConfig = WebConfig()
    api: ApiConfig = ApiConfig()
    legal_bases: dict[str, str] = Field(
        default_factory=dict,
        description="the installation's own statutes beyond the shipped list: code → kim (covers KIM case "
        "coordination) or linkage (linkage and transfer only)",
    )
    controllers: dict[str, ControllerConfig] = Field(
        default_factory=dict,
        description="the controllers of the platform by name; each source names its own (sources.*.controller)",
    )

    @field_validator("sources", mode="before")
    @classmethod
    def check_source_names(cls, names: Any) -> Any:
        """Every source's name follows the rule (it becomes folders under the home)."""
        return _source_names(names)

    @field_validator("controllers", mode="before")
    @classmethod
    def check_controller_names(cls, names: Any) -> Any:
        """A controller's name follows the source names' rule: a bare TOML key, a plain filter value."""
        if isinstance(names, dict) and not all(isinstance(n, str) and is_source_name(n) for n in names):
            raise ValueError(CONTROLLER_NAME_RULE)
        return names

    @field_validator("legal_bases")
    @classmethod
    def check_legal_bases(cls, declared: dict[str, str]) -> dict[str, str]:
        """The installation's statutes: ``statute:`` codes covering kim or linkage, none shipped."""
        check_declared(declared)
        return declared

    @model_validator(mode="after")
    def check_sources_legal_bases(self) -> HubConfig:
        """Every source names a legal basis of the closed list: what the hub may hold depends on it."""
        for name, source in self.sources.items():
            try:
                legal_basis(source.legal_basis, self.legal_bases)
            except ValueError as error:
                raise ValueError(f"sources.{name}.legal_basis: {error}") from None
        return self

    @model_validator(mode="after")
    def check_client_certificates(self) -> HubConfig:
        """A client certificate acts for a source of this hub, and one subject for one body."""
        subjects = [c.subject for c in self.api.client_certificates]
        if len(set(subjects)) != len(subjects):
            raise ValueError("api.client_certificates: a subject is listed twice")
        for n, certificate in enumerate(self.api.client_certificates):
            if certificate.body not in self.sources:
                raise ValueError(f"api.client_certificates[{n}].body: names no source of this hub")
        return self

    @model_validator(mode="after")
    def check_sources_controllers(self) -> HubConfig:
        """A source's controller must be declared under [controllers] (the message names the
        declared ones, never the value the source gave)."""
        for name, source in self.sources.items():
            if source.controller is not None and source.controller not in self.controllers:
                declared = ", ".join(repr(c) for c in self.controllers) or "none"
                raise ValueError(
                    f"sources.{name}.controller: names no controller declared under [controllers] (declared: {declared})"
                )
        return self

    def sources_of(self, controller: str) -> list[str]:
        """The sources a controller answers for, in configuration order."""
        return [name for name, source in self.sources.items() if source.controller == controller]

    @property
    def undeclared_sources(self) -> list[str]:
        """Sources that name no controller (a home from before controllers were declared)."""
        return [name for name, source in self.sources.items() if source.controller is None]


class HubHome:
    """Paths and configuration of one installation."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

    @classmethod
    def resolve(cls, explicit: str | None) -> HubHome:
        """--home beats KIM_HUB_HOME beats ./kim-home."""
        return cls(Path(explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME))

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def var(self) -> Path:
        return self.path / "var"

    @property
    def prefect_home(self) -> Path:
        return self.var / "prefect"

    @property
    def reports(self) -> Path:
        return self.path / "reports"

    def outbox(self, body: str, kind: str) -> Path:
        """Where the hub leaves files for a body: ``receipts`` of its deliveries, ``summaries`` for it.
        A name outside the rule is refused here too: this is where a name becomes a path."""
        return self.path / "outbox" / check_source_name(body, "outbox") / kind

    def inbox(self, source: str) -> Path:
        """Where a source's deliveries arrive (a name outside the rule is refused, as for ``outbox``)."""
        return self.path / "inbox" / check_source_name(source, "inbox")

    def key_dir(self, config: HubConfig) -> Path:
        return self.path / config.key_dir

    def erasure_ledger(self, config: HubConfig) -> Path:
        """The erasure ledger's file (hub_db.erasure_ledger)."""
        return self.path / config.erasure_ledger

    def database_url(self, config: HubConfig) -> str:
        return config.database_url or f"sqlite:///{self.var / 'hub.db'}"

    def exists(self) -> bool:
        return self.config_file.exists()

    def load_config(self) -> HubConfig:
        """hub.toml as read now. The web application reads it several times per request, so the
        parsed form of the text last read is kept (per file and text: an edited file is parsed
        anew at once) and each caller gets its own deep copy (some set values past validation)."""
        if not self.config_file.exists():
            raise ConfigError(f"{self.config_file} not found: run 'kim-hub init --home {self.path}' first")
        text = self.config_file.read_text(encoding="utf-8")
        parsed = _PARSED.get(self.config_file)
        if parsed is not None and parsed[0] == text:
            return parsed[1].model_copy(deep=True)
        try:
            config = HubConfig.model_validate(tomllib.loads(text))
            _PARSED[self.config_file] = (text, config)
            return config.model_copy(deep=True)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.config_file}: not valid TOML ({exc})") from None
        except ValidationError as exc:
            raise ConfigError(f"{self.config_file}: {_problems(exc)}") from None

    def save_config(self, config: HubConfig) -> None:
        """Replace hub.toml atomically (mode 0600): a failed write leaves the old file whole, and
        every later command can read what was written. A name added past validation (a dict
        assignment) is refused here, before anything is written."""
        for name in config.sources:
            check_source_name(name, f"{self.config_file}: sources")
        try:  # a value set past validation (`sources add --legal-basis`) is checked like a loaded one
            HubConfig.model_validate(config.model_dump())
        except ValidationError as exc:
            raise ConfigError(f"{self.config_file}: {_problems(exc)}") from None
        text = render_config(config)
        with replacing(self.config_file, CONFIG_FILE) as handle:
            handle.write(text)


def _client_certificate_lines(config: HubConfig) -> list[str]:
    lines: list[str] = []
    for certificate in config.api.client_certificates:
        scopes = ", ".join(_toml_string(scope) for scope in certificate.scopes)
        lines += [
            "[[api.client_certificates]]",
            f"subject = {_toml_string(certificate.subject)}",
            f"body = {_toml_string(certificate.body)}",
            f"scopes = [{scopes}]",
        ]
    return lines


_PARSED: dict[Path, tuple[str, HubConfig]] = {}  # hub.toml's last text read and its parsed form, per file


def _problems(exc: ValidationError) -> str:
    """A validation error's problems by location (pydantic's messages; inputs are hidden from them)."""
    return "; ".join(": ".join(filter(None, (".".join(map(str, e["loc"])), e["msg"]))) for e in exc.errors())


def render_config(config: HubConfig) -> str:
    """hub.toml text with a comment per setting (written by init and `sources add`)."""
    lines = [
        "# kim-hub configuration. Paths are relative to this folder.",
        "",
        "# SQLAlchemy URL of the hub database; empty = embedded SQLite in var/hub.db.",
        "# PostgreSQL: postgresql+psycopg://user@host/kimhub",
        f"database_url = {_toml_string(config.database_url)}",
        "# Folder of the secret key files (mode 0600). Back it up together with the database.",
        f"key_dir = {_toml_string(config.key_dir)}",
        "# The erasure ledger: one tombstone per erasure (keyed digests and counts, no record id, no",
        "# content). A restored database is brought up to it before any command runs, so keep it",
        "# apart from database backups and never restore it with them (docs/operations.md).",
        f"erasure_ledger = {_toml_string(config.erasure_ledger)}",
        "",
        "[linkage]",
        "# Match probability at or above which records are linked automatically.",
        f"auto_link_probability = {config.linkage.auto_link_probability}",
        "# Match probability at or above which a pair goes to the review queue.",
        f"review_probability = {config.linkage.review_probability}",
        "# Re-learn the linkage model once the index grew by this share.",
        f"reestimate_growth = {config.linkage.reestimate_growth}",
        "# Two given names count as one (a call name the list in mappings/ does not know) once the",
        "# reviewers' decisions or AZR numbers with family name and birth date confirm them for this",
        "# many persons, and no pair shows them as two persons; 0 never learns.",
        f"name_equivalence_persons = {config.linkage.name_equivalence_persons}",
        "# Household evidence alone (a family name in one household, the twins' pattern, both names",
        "# replaced at one address) links when the weight says so only where the index's own",
        "# households show such pairs are one person (`kim-hub review rules`); false never lets the",
        "# census decide (reviewers' decisions on the twins' pattern still can).",
        f"household_census = {str(config.linkage.household_census).lower()}",
        "",
        "[exchange]",
        "# The foreigners authority is inbound only unless this route is opened here AND a",
        "# person's consent names abh explicitly.",
        f"authority_route_open = {str(config.exchange.authority_route_open).lower()}",
        "# Bodies whose active case means a person is picked up, and how long a recognition,",
        "# SGB II entry or closed case may stay without one before `kim-hub gaps` lists it.",
        "case_management_sources = [" + ", ".join(_toml_string(s) for s in config.exchange.case_management_sources) + "]",
        f"gap_days = {config.exchange.gap_days}",
        "# Consent purposes the exchange serves (an empty purpose in a source's consent means kim).",
        "purposes = [" + ", ".join(_toml_string(s) for s in config.exchange.purposes) + "]",
        "",
        "[codes]",
        "# The city's districts: a CSV file with the columns code,label,aliases (relative to this",
        "# folder). A source's district that is not in it is left out with a note on its receipt;",
        "# reports and the monitoring show the labels. Empty = the shipped list (the demo city).",
        f"districts = {_toml_string(config.codes.districts)}",
        "",
        "[audit]",
        "# Reading commands (links, review list, gaps, transitions, report) record a purpose in the",
        "# audit log: --purpose, else their own default; true = --purpose is required.",
        f"require_purpose = {str(config.audit.require_purpose).lower()}",
        "",
        "[audit.retention_days]",
        "# Days the audit log keeps each channel's entries (read, change, input, transfer, admin);",
        "# a channel not named here keeps them. Reads: 6 months (§ 79 Abs. 4 SGB X).",
        *(f"{channel} = {days:g}" for channel, days in config.audit.retention_days.items()),
        "",
        "[retention]",
        "# Periods of the categories that belong to no one source; each source's own periods are",
        "# under [sources.*] (retention_days, archive_days, failed_days, receipt_days), the audit log's",
        "# under [audit.retention_days]. Leave a setting out to keep. `kim-hub retention --plan`",
        "# lists every category and its rule.",
        "# reports_days: files in reports/, from their last writing.",
        *([f"reports_days = {config.retention.reports_days:g}"] if config.retention.reports_days is not None else []),
        "",
        "[legal_bases]",
        "# Statutes beyond the shipped list (mappings/codes/legal_bases.csv) that this installation's",
        '# data-protection officers established: "kim" = covers KIM case coordination by itself',
        '# (its persons are listed), "linkage" = linkage and transfer only. For example:',
        '# "statute:Landesgesetz § 1" = "kim"',
        *(f"{_toml_key(code)} = {_toml_string(covers)}" for code, covers in config.legal_bases.items()),
        *_controller_lines(config),
        *_web_lines(config),
        "",
        "[api]",
        "# The providers' HTTP API (/api/v1 of `kim-hub web`; tokens: `kim-hub tokens`). Limits:",
        "# a request larger than max_request_bytes answers 413; a delivery larger than async_bytes is",
        "# ingested after the answer (202 and the receipt's address to poll); more than",
        "# requests_per_minute calls of one token, or more than daily_bytes delivered by one body",
        "# in a day (UTC), answer 429 with Retry-After.",
        f"max_request_bytes = {config.api.max_request_bytes}",
        f"async_bytes = {config.api.async_bytes}",
        f"requests_per_minute = {config.api.requests_per_minute}",
        f"daily_bytes = {config.api.daily_bytes}",
        "# A body's software may sign in with a client certificate instead of a token (served with",
        "# `kim-hub web --client-ca FILE`), one block per certificate:",
        "# [[api.client_certificates]]",
        '# subject = "CN=caritas-software,O=Caritas"',
        '# body = "caritas"',
        '# scopes = ["deliver", "receipts"]',
        *_client_certificate_lines(config),
        "",
        "[schedules]",
        "# Cron schedules of the maintenance flows registered by `kim-hub serve`.",
        f"retention = {_toml_string(config.schedules.retention)}",
        f"reestimate = {_toml_string(config.schedules.reestimate)}",
        f"push = {_toml_string(config.schedules.push)}",
        f"report = {_toml_string(config.schedules.report)}",
    ]
    for name, source in config.sources.items():
        lines += [
            "",
            f"[sources.{_toml_key(name)}]",
            "connectors = [" + ", ".join(_toml_string(c) for c in source.connectors) + "]",
            f"schedule = {_toml_string(source.schedule)}",
            f"settle_seconds = {source.settle_seconds}",
            f"archive_days = {source.archive_days}",
            f"failed_days = {source.failed_days}",
            f"azr_authoritative = {str(source.azr_authoritative).lower()}",
            '# What the source delivers under: "consent" (each record\'s consent decides whether the',
            "# person may be listed for KIM), or a statute (see [legal_bases]).",
            f"legal_basis = {_toml_string(source.legal_basis)}",
            "# The controller of this source's data: a name under [controllers].",
            f"controller = {_toml_string(source.controller)}"
            if source.controller is not None
            else '# controller = "..."  (not declared: `kim-hub incident` lists the source as such)',
        ]
        if basis_key(source.legal_basis) != CONSENT:
            lines += [
                "# Under a statute for linkage only: a record of a person the hub may not hold for KIM",
                "# (no consent naming kim) is erased this many days after it arrived (`kim-hub retention`).",
                f"linkage_only_days = {source.linkage_only_days}",
            ]
        if source.receipt_days is not None:
            lines.append(f"receipt_days = {source.receipt_days}")
        if source.retention_days is not None:
            lines.append(f"retention_days = {source.retention_days}")
        if source.group is not None:
            lines.append(f"group = {_toml_string(source.group)}")
        if source.encrypt_record_ids is not None:
            lines.append("# record ids only as encrypted tokens (database, links, review, outbox file names)")
            lines.append(f"encrypt_record_ids = {str(source.encrypt_record_ids).lower()}")
        lines += [
            '# how the body gets its summaries: "deliver" (its API connector, else outbox/<source>/summaries/)',
            '# or "collect" (held for it to collect over the hub\'s API; docs/exchange.md)',
            f"summaries = {_toml_string(source.summaries)}" if source.collects else '# summaries = "collect"',
        ]
        lines += [
            "# what the body is, for the identifier policy: authority, jobcentre, asylblg_office,",
            '# municipality or charity (docs/operations.md, "Identifiers the hub takes")',
            f"body_kind = {_toml_string(source.body_kind)}" if source.body_kind is not None else '# body_kind = "charity"',
        ]
        lines.append(f"[sources.{_toml_key(name)}.identifiers]")
        lines.append("# identifier kind = the legal basis this source delivers it under; a kind not named is")
        lines.append("# dropped at intake with a note on the receipt (tax ids and social insurance numbers always)")
        lines += [f"{_toml_key(kind)} = {_toml_string(basis)}" for kind, basis in source.identifiers.items()]
        if source.options:
            lines.append(f"[sources.{_toml_key(name)}.options]")
            lines += [f"{_toml_key(key)} = {_toml_string(value)}" for key, value in source.options.items()]
        if source.contract:
            lines.append(f"[sources.{_toml_key(name)}.contract]")
            lines += [f"{_toml_key(key)} = {_toml_string(value)}" for key, value in source.contract.items()]
    return "\n".join(lines) + "\n"


def _controller_lines(config: HubConfig) -> list[str]:
    """The [controllers.*] tables, with what each setting means (a commented example when none is declared)."""
    lines = [
        "",
        "# The controllers of the platform (SDM module 50): each body stays controller of its own",
        "# sources' data (sources.*.controller). regime: dsgvo-dsg-nrw, sgb-x, kdg or dsg-ekd;",
        "# supervisor: ldi-nrw, bfdi, kdsz-dortmund or bfd-ekd, one competent for the regime",
        "# (mappings/codes/). contact: the functional address of its data-protection officer.",
        "# `kim-hub incident` and `kim-hub audit --controller` tell each its share.",
    ]
    if not config.controllers:
        lines += [
            "# [controllers.caritas]",
            '# name = "Caritasverband"',
            '# regime = "kdg"',
            '# supervisor = "kdsz-dortmund"',
            '# contact = "datenschutz@caritas.example"',
        ]
    for code, controller in config.controllers.items():
        lines += [
            f"[controllers.{_toml_key(code)}]",
            f"name = {_toml_string(controller.name)}",
            f"regime = {_toml_string(controller.regime)}",
            f"supervisor = {_toml_string(controller.supervisor)}",
            f"contact = {_toml_string(controller.contact)}" if controller.contact is not None else '# contact = "datenschutz@…"',
        ]
    return lines


def _web_lines(config: HubConfig) -> list[str]:
    """[web.oidc]: sign-in through the installation's OpenID provider (a commented example when none)."""
    lines = [
        "",
        "# Sign-in to the web application through the installation's OpenID provider (Keycloak),",
        "# besides the local accounts (`kim-hub users`). The client secret is never written here:",
        "# it is read from the environment variable client_secret_env, else from the file",
        "# client_secret_file in the key folder (mode 0600). A user whose claims map to no role (or",
        '# to several) is refused. docs/operations.md, "Web application", shows the Keycloak side.',
    ]
    oidc = config.web.oidc
    if oidc is None:
        return [
            *lines,
            "# [web.oidc]",
            '# issuer = "https://sso.example/realms/kim"',
            '# client_id = "kim-hub"',
            f'# redirect_url = "https://kim-hub.example{OIDC_CALLBACK_PATH}"',
            '# display_name = "Stadt-Login"',
            '# role_claim = "realm_access.roles"',
            '# organisation_claim = "organisation"',
            '# district_claim = "districts"',
            "# [web.oidc.roles]",
            '# kim-reviewer = "reviewer"',
            "# [web.oidc.organisations]",
            '# caritas-koeln = "caritas"',
            f'# kim-team = "{EVERY_BODY}"',
        ]
    return [
        *lines,
        "[web.oidc]",
        f"issuer = {_toml_string(oidc.issuer)}",
        f"client_id = {_toml_string(oidc.client_id)}",
        f"# must equal the redirect URI registered at the provider, ending in {OIDC_CALLBACK_PATH}",
        f"redirect_url = {_toml_string(oidc.redirect_url)}",
        '# the sign-in page\'s button: "Sign in with <display_name>"',
        f"display_name = {_toml_string(oidc.display_name)}",
        "# true = a public client (PKCE, no secret); false = the secret below is required",
        f"public_client = {str(oidc.public_client).lower()}",
        f"client_secret_env = {_toml_string(oidc.client_secret_env)}",
        f"client_secret_file = {_toml_string(oidc.client_secret_file)}",
        "scopes = [" + ", ".join(_toml_string(s) for s in oidc.scopes) + "]",
        "# dotted paths into the ID token's claims (Keycloak realm roles: realm_access.roles)",
        f"role_claim = {_toml_string(oidc.role_claim)}",
        "# empty = every body (like an account without --org); set = a user without a mapped body is refused",
        f"organisation_claim = {_toml_string(oidc.organisation_claim)}",
        f"district_claim = {_toml_string(oidc.district_claim)}",
        "[web.oidc.roles]",
        "# claim value = kim-hub role (reviewer, coordinator, provider, operator, auditor)",
        *(f"{_toml_key(value)} = {_toml_string(role)}" for value, role in oidc.roles.items()),
        "[web.oidc.organisations]",
        f'# claim value = source name, or "{EVERY_BODY}" for every body; none listed = the values are source names',
        *(f"{_toml_key(value)} = {_toml_string(body)}" for value, body in oidc.organisations.items()),
    ]


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_key(key: str) -> str:
    """A key as TOML allows it: bare where it may be (every valid source name), else quoted.
    Option and contract keys come from a hand-edited hub.toml and can be anything."""
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(value: str) -> str:
    """A TOML basic string: backslash and quote escaped, and every control character TOML does
    not allow raw (U+0000-U+001F, U+007F) written as an escape."""
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if c < " " or c == "\x7f" else c) for c in value) + '"'
