"""The installation's closed vocabularies: its district list and its bodies.

A city sets its own districts in a CSV file named in hub.toml (``[codes] districts``, relative to
the home; the columns ``code,label,aliases`` of ``mappings/codes/districts.csv``). Without one
the shipped list applies. The bodies a consent may name are the configured sources (plus ``kim``).
The mappings read every delivery against this vocabulary, and reports and worklists show a stored
district only by its label from the same list (``mappings.vocabulary``).
"""

from __future__ import annotations

from pathlib import Path

from kim_hub.core.errors import ConfigError
from kim_hub.mappings.vocabulary import CodeList, Vocabulary, code_list, installation_vocabulary
from kim_hub.pipeline.home import HubConfig, HubHome

MAX_LIST_BYTES = 1024 * 1024  # a district list is a few hundred short lines
SETTING = "[codes] districts"


def district_list_path(home: HubHome, config: HubConfig) -> Path | None:
    """The file the installation names as its district list, or None for the shipped list."""
    configured = config.codes.districts.strip()
    return home.path / configured if configured else None


def district_list(home: HubHome, config: HubConfig) -> CodeList | None:
    """The installation's district list, or None when it uses the shipped one. A list that cannot
    be read or breaks a rule is a ConfigError (the operator's to fix), naming the setting."""
    path = district_list_path(home, config)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{SETTING}: the file cannot be read ({type(error).__name__})") from None
    if len(data) > MAX_LIST_BYTES:
        raise ConfigError(f"{SETTING}: the file is larger than {MAX_LIST_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{SETTING}: the file is not UTF-8") from None
    return code_list("district", text, SETTING)


def vocabulary(home: HubHome, config: HubConfig) -> Vocabulary:
    """What the installation's mappings read district, goals and consent recipients against."""
    return installation_vocabulary(district_list(home, config), config.sources)
