"""Process set-up before Prefect is imported: its state inside the home, its API, its logging, nothing leaked.

Prefect reads its settings when it is first imported, so the CLI calls ``prepare_prefect`` and
``connect_prefect_api`` before any flow module is loaded. A developer's own Prefect profile (say a
PREFECT_API_URL pointing at a shared server) must not capture a hub's runs unless hub
configuration asks for it (``KIM_HUB_PREFECT_API_URL``); without one, the command gets a
temporary API server that dies with it (``flows.temporary_api``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from pathlib import Path

from kim_hub.flows.redaction import RedactingFilter
from kim_hub.flows.temporary_api import CLIENT_AUTH_ENV, STARTUP_TIMEOUT_ENV, start_temporary_api
from kim_hub.pipeline.home import HubHome
from kim_hub.runtime.file_modes import make_private_folders, use_private_umask
from kim_hub.runtime.lifetime import can_die_with_parent

PREFECT_ENVIRONMENT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    "PREFECT_CLI_COLORS": "false",
}
# Run logs still reach Prefect's database and UI; the terminal shows only warnings unless
# `--verbose` asks for everything.
QUIET_CONSOLE = {
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL": "WARNING",
}
API_URL_OVERRIDE = "KIM_HUB_PREFECT_API_URL"
# Prefect's own logging configuration with the redacting filter on every handler, the API log
# handler included (flows/logging.yml); both names, as Prefect 3 reads either.
LOGGING_CONFIG = Path(__file__).with_name("logging.yml")
LOGGING_CONFIG_VARIABLES = ("PREFECT_LOGGING_CONFIG_PATH", "PREFECT_LOGGING_SETTINGS_PATH")


def prepare_prefect(home: HubHome, verbose: bool = False) -> None:
    """Point Prefect at the home's var/prefect and at the hub's logging configuration, and switch
    off what phones home. The logging configuration is the hub's whatever a profile or the
    environment said: a handler without the redacting filter would store values in Prefect's
    database. Set in the environment, it reaches the processes Prefect starts too."""
    _point_at_home(os.environ, home, verbose)


def _point_at_home(environment: MutableMapping[str, str], home: HubHome, verbose: bool = False) -> None:
    """``prepare_prefect``'s settings, made in ``environment`` (this process's, or a copy for a child)."""
    make_private_folders(home.prefect_home)
    environment["PREFECT_HOME"] = str(home.prefect_home)
    environment["PREFECT_PROFILES_PATH"] = str(home.prefect_home / "profiles.toml")
    for variable in LOGGING_CONFIG_VARIABLES:
        environment[variable] = str(LOGGING_CONFIG)
    for key, value in PREFECT_ENVIRONMENT.items():
        environment.setdefault(key, value)
    for key, value in QUIET_CONSOLE.items():
        if verbose:
            environment[key] = "INFO"
        else:
            environment.setdefault(key, value)
    api_url = environment.get(API_URL_OVERRIDE)
    if api_url:
        environment["PREFECT_API_URL"] = api_url
    else:
        environment.pop("PREFECT_API_URL", None)


def connect_prefect_api() -> None:
    """Give this process a Prefect API: the configured server, else a temporary one that lives as
    long as this process and no longer (where the platform allows; else Prefect starts its own).

    The temporary server requires its own random auth string, which the client is given here. An
    API key in the environment is dropped for it: Prefect's client would send the key instead of
    the auth string, and the server would refuse every call. A configured server's credentials
    are the operator's (PREFECT_API_AUTH_STRING in the environment) and are left alone."""
    if not os.environ.get("PREFECT_API_URL") and can_die_with_parent():
        api = start_temporary_api()
        os.environ.pop("PREFECT_API_KEY", None)
        os.environ[CLIENT_AUTH_ENV] = api.auth_string
        os.environ["PREFECT_API_URL"] = api.url


AT_INIT_SWITCH = "KIM_HUB_PREFECT_DATABASE_AT_INIT"  # "0": init leaves it to the first sync (the test suite)
PREFECT_DATABASE_FILE = "prefect.db"  # Prefect's default database: SQLite in PREFECT_HOME
DATABASE_URL_VARIABLES = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")


def create_prefect_database(home: HubHome) -> bool:
    """Create Prefect's run-history database in ``var/prefect`` now, as `kim-hub init` does, so that
    the first sync does not: its temporary API server would otherwise create it on its first
    start (Prefect's 116 migrations of an empty SQLite file and its block types, about 3.5 s of
    CPU; benchmarks/README.md, "Prefect's database made at init"). It is made the way the first
    sync would make it: the temporary server started once and stopped, so the sync's server finds
    it current and only checks it. Nothing is done where the hub's flows use a configured server
    (``KIM_HUB_PREFECT_API_URL``) or Prefect is given another database, where the platform has no
    temporary server of the hub's, nor when the file is there already (a later Prefect's
    migrations run at the server's start, as before), nor with ``KIM_HUB_PREFECT_DATABASE_AT_INIT=0``
    (the test suite's many inits, most of which never sync). Returns whether it was created."""
    target = home.prefect_home / PREFECT_DATABASE_FILE
    if (
        os.environ.get(AT_INIT_SWITCH, "1").strip() == "0"
        or os.environ.get(API_URL_OVERRIDE)
        or any(os.environ.get(name) for name in DATABASE_URL_VARIABLES)
        or target.exists()
        or not can_die_with_parent()
    ):
        return False
    environment = dict(os.environ)  # this process's stays as it was (tests run `init` in theirs)
    _point_at_home(environment, home)
    previous = use_private_umask()  # the server's database and its -wal/-shm files: the hub's account only
    try:
        start_temporary_api(float(environment[STARTUP_TIMEOUT_ENV]), environment).stop()
    finally:
        os.umask(previous)
    return True


def install_redaction() -> None:
    """Attach the redacting filter to every handler of every logger this process has set up.

    ``flows/logging.yml`` already names the filter on each handler Prefect configures; this covers
    a handler attached some other way before a flow starts (a library's, an operator's), and a
    process whose Prefect was configured before ``prepare_prefect`` ran."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.copy().values()]  # a copy: threads add loggers
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):  # a PlaceHolder (a dotted name's parent) has none
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
