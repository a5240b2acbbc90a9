"""What an OpenID provider's claims grant in kim-hub: one role, the bodies and the districts, by
the mapping in hub.toml (``[web.oidc]``). Pure functions over a validated ID token's claims.

The provider (Keycloak) is the source of truth for who may do what: the grant is taken afresh at
every sign-in. A user whose claims map to no role is refused, and so is one whose claims map to
several (an account has exactly one role; guessing the stronger or the weaker would be wrong
half the time). With an organisation claim configured, a user whose values map to no configured
body is refused as well: no grant must never turn into "every body", which is what an account
without bodies means. Unmapped values are ignored, never echoed: they may say more about a person
than the hub needs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from kim_hub.pipeline.home import EVERY_BODY, OidcConfig
from kim_hub.pipeline.web_users import DISTRICT_CODE

Refusal = Literal["no_role", "several_roles", "no_organisation", "provider_needs_one_body"]


@dataclass(frozen=True)
class ClaimsGrant:
    """What the claims grant: like a local account's role, ``--org`` and ``--district``."""

    role: str
    organisations: tuple[str, ...]
    districts: tuple[str, ...]


@dataclass(frozen=True)
class ClaimsRefused:
    """Why the claims grant nothing (a kind, never a value from the claims)."""

    reason: Refusal


def claim_values(claims: Mapping[str, object], path: str) -> list[str]:
    """The strings at a dotted path: one string or a list of them (anything else there: none).
    Keycloak nests realm roles (``realm_access.roles``) and client roles
    (``resource_access.<client>.roles``)."""
    found: object = claims
    for step in path.split(".") if path else ():
        found = found.get(step) if isinstance(found, Mapping) else None
    if isinstance(found, str):
        return [found]
    if isinstance(found, list):
        return [value for value in found if isinstance(value, str)]
    return []


def map_claims(claims: Mapping[str, object], config: OidcConfig, sources: Collection[str]) -> ClaimsGrant | ClaimsRefused:
    """The grant of a validated ID token's claims, or why there is none. ``sources`` are the
    configured sources: a body is granted only if it is one of them."""
    roles = {config.roles[value] for value in claim_values(claims, config.role_claim) if value in config.roles}
    if not roles:
        return ClaimsRefused("no_role")
    if len(roles) > 1:
        return ClaimsRefused("several_roles")
    role = roles.pop()
    organisations: tuple[str, ...] = ()
    if config.organisation_claim:
        values = claim_values(claims, config.organisation_claim)
        bodies = {config.organisations.get(value) for value in values} if config.organisations else set(values)
        if EVERY_BODY in bodies:
            organisations = ()  # every body, as for an account without --org
        else:
            organisations = tuple(sorted(body for body in bodies if body is not None and body in sources))
            if not organisations:
                return ClaimsRefused("no_organisation")
    if role == "provider" and len(organisations) != 1:
        return ClaimsRefused("provider_needs_one_body")
    districts: tuple[str, ...] = ()
    if config.district_claim:
        districts = tuple(sorted({code for code in claim_values(claims, config.district_claim) if DISTRICT_CODE.fullmatch(code)}))
    return ClaimsGrant(role, organisations, districts)
