"""The hub's exception tree, grouped by what the operator has to do.

    HubError                      root: everything kim-hub raises on purpose
    ├── ConfigError               fix hub.toml / the command line (exit code 2)
    ├── BadInputError             a file or row is unusable: quarantine it, keep going
    ├── TransientError            retry later (network, locked database); Prefect retries these
    └── FatalError                stop: the hub cannot continue safely (e.g. an exposed key)

Messages are written for people and never carry personal data: they name files, rows and
fields, not values.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every exception kim-hub raises on purpose."""


class ConfigError(HubError):
    """The configuration or the command line is wrong; the operator must fix it."""


class BadInputError(HubError):
    """Input that cannot be used; it is quarantined with a receipt and the run continues."""


class TransientError(HubError):
    """A failure that may go away on retry (network, lock, timeout)."""


class FatalError(HubError):
    """The hub must stop: continuing could lose or leak data."""
