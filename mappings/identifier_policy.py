"""The identifier policy: which identifiers the hub takes from which source, as data.

The law fences a person's identifiers (shared/DOMAIN.md, "Identifiers"): the tax id may not be
processed outside the IDNrG, the social insurance number serves SGB tasks only, the AZR number may
be used only by the public bodies named in § 10 Abs. 4 AZRG and never alone, the job centre's
Kundennummer and BG-Nummer serve its own identification only. ``identifier_policy.toml`` says per
kind who may deliver it; ``hub.toml`` says what each source is (``body_kind``) and names the legal
bases it delivers under (``[sources.<name>.identifiers]``); ``taken_kinds`` turns the two into
the kinds one source may deliver, and refuses a basis the policy does not allow (a charity
naming one for AZR numbers, anyone naming one for a tax id).

Every mapping's rows pass ``fenced`` (the ingest wraps each source's mapping in it, as it does
with the record-id rule): an identifier the source may not deliver is removed from the summary
before pseudonymisation, so no keyed token, no content hash and no stored field is ever derived
from it, and the row lands with a note naming the column and the reason, never the value
(``IdentifierNote``; the ingest gathers them into one note per column and file). A value shaped
like an identifier in a column kept in clear (the consent's evidence reference) is left out the
same way (``mappings.identifier_shapes``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from typing import Any, Literal, get_args

from kim_hub.core.errors import ConfigError
from kim_hub.core.rows import Note, RawRow, Rejection
from kim_hub.mappings.case_summary import CaseSummary, Consent, Identity
from kim_hub.mappings.identifier_shapes import IdentifierKind, identifier_kind
from kim_hub.mappings.registry import RowMapper

POLICY_FILE = "identifier_policy.toml"
Taken = Literal["never", "public_body", "named_basis"]
MAX_BASIS_CHARS = 200  # a legal basis as hub.toml names it: a citation, not a text

# columns kept in clear that the policy may name as free text → how to leave their value out
_FREE_TEXT: dict[str, tuple[Callable[[Consent], str | None], str]] = {
    "consent_evidence": (lambda consent: consent.evidence_ref, "evidence_ref"),
    "consent_purpose": (lambda consent: consent.purpose, "purpose"),
}


@dataclass(frozen=True)
class IdentifierRule:
    """One kind of identifier: what it is, who may deliver it, and how it travels (see the TOML)."""

    kind: str
    label: str
    reason: str
    columns: tuple[str, ...]
    field: str | None
    taken: Taken
    body_kinds: frozenset[str] = frozenset()
    shape: IdentifierKind | None = None
    alone: bool = False


@dataclass(frozen=True)
class Declaration:
    """What a source is and the legal bases it names (hub.toml; `kim-hub init`'s defaults)."""

    body_kind: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentifierPolicy:
    """The whole policy: the rules per kind, the body kinds a source may declare, the free text,
    and what `kim-hub init` declares for its default bodies."""

    rules: dict[str, IdentifierRule]
    body_kinds: dict[str, str]
    free_text_columns: tuple[str, ...]
    free_text_shapes: frozenset[IdentifierKind]
    defaults: dict[str, Declaration] = field(default_factory=dict)

    def default_taken(self, source: str) -> frozenset[str]:
        """The kinds a default body takes as `kim-hub init` declares it (none for any other name)."""
        declared = self.defaults.get(source, Declaration())
        return self.taken_kinds(declared.body_kind, declared.identifiers)

    def rule_for_field(self, field: str) -> IdentifierRule | None:
        """The rule of the kind an identity field carries, if any."""
        return next((rule for rule in self.rules.values() if rule.field == field), None)

    def taken_kinds(self, body_kind: str | None, bases: Mapping[str, str]) -> frozenset[str]:
        """The kinds a source of ``body_kind`` that names ``bases`` (kind → legal basis) may
        deliver; ValueError (words safe to show: kinds and rules, no basis text) for a body kind
        or a basis the policy does not allow."""
        if body_kind is not None and body_kind not in self.body_kinds:
            raise ValueError(f"body_kind must be one of {', '.join(self.body_kinds)}")
        taken: set[str] = set()
        for kind, basis in bases.items():
            rule = self.rules.get(kind)
            if rule is None:
                raise ValueError(f"identifiers: unknown kind; the kinds are {', '.join(self.rules)}")
            if not basis.strip() or len(basis) > MAX_BASIS_CHARS or not basis.isprintable():
                raise ValueError(f"identifiers.{kind}: name the legal basis (at most {MAX_BASIS_CHARS} printable characters)")
            if rule.taken == "never":
                raise ValueError(f"identifiers.{kind}: the {rule.label} is taken from no source ({rule.reason})")
            if rule.taken == "public_body" and body_kind not in rule.body_kinds:
                allowed = ", ".join(sorted(rule.body_kinds))
                raise ValueError(
                    f"identifiers.{kind}: the {rule.label} is taken only from a source whose body_kind is one of "
                    f"{allowed} ({rule.reason})"
                )
            taken.add(kind)
        return frozenset(taken)


@cache
def identifier_policy() -> IdentifierPolicy:
    """The shipped policy (identifier_policy.toml), checked once."""
    text = resources.files("kim_hub.mappings").joinpath(POLICY_FILE).read_text(encoding="utf-8")
    return parse_policy(tomllib.loads(text))


def parse_policy(data: Mapping[str, Any]) -> IdentifierPolicy:
    """The policy from its TOML data; ConfigError if the file breaks its own rules."""
    identity_fields = set(Identity.model_fields)
    shapes = set(get_args(IdentifierKind))
    body_kinds = {str(kind): str(text) for kind, text in data.get("body_kinds", {}).items()}
    rules: dict[str, IdentifierRule] = {}
    for kind, entry in data.get("kinds", {}).items():
        taken, field, shape = entry.get("taken"), entry.get("field") or None, entry.get("shape")
        if taken not in get_args(Taken):
            raise ConfigError(f"{POLICY_FILE}: kinds.{kind}.taken must be one of {', '.join(get_args(Taken))}")
        if field is not None and field not in identity_fields:
            raise ConfigError(f"{POLICY_FILE}: kinds.{kind}.field is not a field of the identity")
        if shape is not None and shape not in shapes:
            raise ConfigError(f"{POLICY_FILE}: kinds.{kind}.shape is not a shape of mappings.identifier_shapes")
        allowed = frozenset(entry.get("body_kinds", ()))
        if not allowed <= body_kinds.keys() or (taken == "public_body") != bool(allowed):
            raise ConfigError(f"{POLICY_FILE}: kinds.{kind}.body_kinds must name body kinds, and only for public_body")
        rules[kind] = IdentifierRule(
            kind=kind,
            label=str(entry["label"]),
            reason=str(entry["reason"]),
            columns=tuple(entry.get("columns", ())),
            field=field,
            taken=taken,
            body_kinds=allowed,
            shape=shape,
            alone=bool(entry.get("alone", False)),
        )
    free_text = data.get("free_text", {})
    columns = tuple(free_text.get("columns", ()))
    free_shapes = frozenset(free_text.get("shapes", ()))
    if not set(columns) <= _FREE_TEXT.keys() or not free_shapes <= shapes:
        raise ConfigError(f"{POLICY_FILE}: free_text names a column or shape the hub does not know")
    defaults = {
        str(name): Declaration(entry.get("body_kind"), dict(entry.get("identifiers", {})))
        for name, entry in data.get("defaults", {}).items()
    }
    policy = IdentifierPolicy(rules, body_kinds, columns, free_shapes, defaults)
    for name, declared in defaults.items():
        try:
            policy.taken_kinds(declared.body_kind, declared.identifiers)
        except ValueError as error:
            raise ConfigError(f"{POLICY_FILE}: defaults.{name}: {error}") from None
    return policy


@dataclass(frozen=True)
class IdentifierNote(Note):
    """A value left out under the identifier policy: the ingest gathers these into one note per
    column and file, since a column the source may not deliver is usually full (``gathered``)."""


def fenced(mapper: RowMapper, taken: frozenset[str]) -> RowMapper:
    """``mapper`` under the identifier policy for a source that may deliver ``taken``; picklable,
    for the workers."""
    return partial(_fenced, mapper, taken)


def _fenced(mapper: RowMapper, taken: frozenset[str], source: str, row: RawRow) -> CaseSummary | list[Rejection]:
    result = mapper(source, row)
    if isinstance(result, list):
        return result  # refused: nothing of it is kept
    return fence_summary(result, row, taken)


def fence_summary(summary: CaseSummary, row: RawRow, taken: frozenset[str]) -> CaseSummary:
    """``summary`` without the identifiers its source may not deliver (see the module docstring)."""
    policy = identifier_policy()
    notes: list[Note] = []
    dropped: dict[str, None] = {}
    identity = summary.identity
    for rule in policy.rules.values():
        value = getattr(identity, rule.field) if rule.field else None
        if rule.kind in taken:
            if value is not None and rule.shape is not None and identifier_kind(str(value)) != rule.shape:
                dropped[rule.field or ""] = None  # taken, but what came is not one: nothing derived from it either
                column = rule.columns[0] if rule.columns else rule.field
                notes.append(Note(row.file, row.row_number, column, f"not shaped like {_article(rule.label)}; left out"))
            continue
        notes.extend(
            IdentifierNote(row.file, row.row_number, column, f"not taken: {rule.reason}")
            for column in rule.columns
            if row.fields.get(column, "").strip()
        )
        if value is not None and rule.field:
            dropped[rule.field] = None
    case = _free_text_fenced(summary, row, policy, notes)
    if not dropped and case is summary.case and not notes:
        return summary
    fenced_identity = identity.model_copy(update=dict.fromkeys(dropped)) if dropped else identity
    return summary.model_copy(update={"identity": fenced_identity, "case": case}).with_notes([*summary.notes, *notes])


def _free_text_fenced(summary: CaseSummary, row: RawRow, policy: IdentifierPolicy, notes: list[Note]) -> Any:
    """The case data without free-text values shaped like an identifier."""
    consent = summary.case.consent
    update: dict[str, None] = {}
    for column in policy.free_text_columns:
        read, attribute = _FREE_TEXT[column]
        value = read(consent)
        kind = identifier_kind(value) if value else None
        if kind in policy.free_text_shapes:
            update[attribute] = None
            notes.append(
                Note(
                    row.file,
                    row.row_number,
                    column,
                    f"looks like {_article(kind)}, which the hub keeps out of clear text; left out",
                )
            )
    if not update:
        return summary.case
    return summary.case.model_copy(update={"consent": consent.model_copy(update=update)})


def _article(label: str) -> str:
    """``label`` with its indefinite article ("an AZR number", "a tax id")."""
    return f"{'an' if label[:1] in 'AEIOU' else 'a'} {label}"


def gathered(notes: Mapping[tuple[str, str | None, str], int]) -> list[Note]:
    """One note per file, column and reason from the count of ``IdentifierNote``s behind it."""
    return [
        Note(file, None, column, f"{count} row(s): {reason}; no value was encoded or kept in the database")
        for (file, column, reason), count in notes.items()
    ]
