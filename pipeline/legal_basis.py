"""The sources' legal bases as the rules need them (``exchange.legal_basis``), from hub.toml.

One place turns the configuration into the pure rule's inputs, so the worklists, the review
queue, the report and retention apply the same rule on the same day.
"""

from __future__ import annotations

import datetime as dt

from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.legal_basis import SourceBases
from kim_hub.mappings.legal_bases import legal_basis
from kim_hub.pipeline.home import HubConfig


def source_bases(config: HubConfig) -> SourceBases:
    """Which sources deliver under a statute covering KIM, which under one for linkage only."""
    bases = {name: legal_basis(source.legal_basis, config.legal_bases) for name, source in config.sources.items()}
    return SourceBases(
        covering=frozenset(name for name, basis in bases.items() if basis.covers_kim),
        linkage_only=frozenset(name for name, basis in bases.items() if basis.linkage_only),
    )


def kim_policy(config: HubConfig, today: dt.date | None = None) -> ConsentPolicy:
    """The consent side of the rule: the day and the purposes the exchange serves."""
    return ConsentPolicy(today or dt.date.today(), config.exchange.authority_route_open, tuple(config.exchange.purposes))
