"""Configuration and keys (issue 19, item 8): what the hub reads and writes about itself is safe.

Source names follow one rule wherever they come from (they become folder names); hub.toml is
always valid TOML, private and replaced atomically; the key folder and key files are refused
when they are links, foreign or open to others; `--out` never writes through a link; Prefect's
temporary API server asks for an auth string. All names and values here are synthetic.
"""

from __future__ import annotations

import base64
import os
import stat
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.cli.main import main
from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.hub_db.keystore import create_key, load_keys
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig, render_config

RULE = r"\^\[a-z0-9\]\[a-z0-9_-\]\{0,63\}\$"
BAD_NAMES = ("../../outside", "ǅ²", "Caritas", "two words", "-leading", "x" * 65, "caritas\n", "")
VICTIM_TEXT = "synthetic file that must stay as it is\n"


def _home(tmp_path: Path) -> Path:
    """A fresh home (`kim-hub init`, in process): default sources, a key, an empty index."""
    home = tmp_path / "home"
    assert main(["init", "--home", str(home)]) == 0
    return home


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _victim(tmp_path: Path) -> Path:
    """A file a planted link points at: it must never be written through."""
    victim = tmp_path / "victim.txt"
    victim.write_text(VICTIM_TEXT, encoding="utf-8")
    return victim


# --- source names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_hub_toml_with_a_source_name_outside_the_rule_is_refused(tmp_path: Path, name: str) -> None:
    home = _home(tmp_path)
    with (home / "hub.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[sources.{_quoted(name)}]\nconnectors = ["provider-csv"]\n')
    with pytest.raises(ConfigError, match=RULE) as refused:
        HubHome(home).load_config()
    if name:
        assert name not in str(refused.value)  # the rule is named, never the value


def test_a_path_like_source_name_in_hub_toml_stops_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = _home(tmp_path)
    with (home / "hub.toml").open("a", encoding="utf-8") as config:
        config.write('\n[sources."../../outside"]\nconnectors = ["provider-csv"]\n')
    capsys.readouterr()
    assert main(["sources", "list", "--home", str(home)]) == 2
    assert "source name" in capsys.readouterr().err
    assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("name", ["ǅ²", "Malteser", "../evil", "a.b", "x" * 65])
def test_sources_add_refuses_a_name_outside_the_rule_and_leaves_hub_toml_usable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    home = _home(tmp_path)
    before = (home / "hub.toml").read_bytes()
    capsys.readouterr()
    assert main(["sources", "add", name, "--home", str(home)]) == 2
    error = capsys.readouterr().err
    assert "^[a-z0-9][a-z0-9_-]{0,63}$" in error and name not in error
    assert (home / "hub.toml").read_bytes() == before
    assert main(["sources", "list", "--home", str(home)]) == 0


def test_sources_add_accepts_a_name_inside_the_rule(tmp_path: Path) -> None:
    home = _home(tmp_path)
    assert main(["sources", "add", "malteser_2-b", "--home", str(home)]) == 0
    assert "malteser_2-b" in HubHome(home).load_config().sources
    assert (home / "inbox" / "malteser_2-b").is_dir()


@pytest.mark.parametrize(
    "command", [["ingest", "--source", "../../outside"], ["erase", "--source", "../../outside", "--record-id", "R-1"]]
)
def test_source_options_follow_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    home = _home(tmp_path)
    capsys.readouterr()
    assert main([*command, "--home", str(home)]) == 2
    error = capsys.readouterr().err
    assert "^[a-z0-9][a-z0-9_-]{0,63}$" in error and "outside" not in error


def test_the_home_builds_no_folder_from_a_name_outside_the_rule(tmp_path: Path) -> None:
    home = HubHome(tmp_path)
    with pytest.raises(ConfigError, match=RULE):
        home.inbox("../../outside")
    with pytest.raises(ConfigError, match=RULE):
        home.outbox("../../outside", "receipts")


# --- hub.toml: valid TOML, private, atomic --------------------------------------------------------

SOURCE_NAMES = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,12}\Z")
ANY_TEXT = st.text(max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    name=SOURCE_NAMES,
    database_url=ANY_TEXT,
    options=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3),
    contract=st.dictionaries(ANY_TEXT, st.sampled_from(["drop_value", "keep_with_warning", "reject_row"]), max_size=3),
    purposes=st.lists(ANY_TEXT, max_size=3),
)
def test_hub_toml_is_valid_toml_and_reads_back_as_written(
    name: str, database_url: str, options: dict[str, str], contract: dict[str, str], purposes: list[str]
) -> None:
    """Keys and strings from a hand-edited hub.toml (quoted keys, escapes, control characters)
    must come back out as valid TOML, or the next command could not read its own configuration."""
    config = HubConfig.model_validate(
        {
            "database_url": database_url,
            "sources": {name: {"options": options, "contract": contract}},
            "exchange": {"purposes": purposes},
        }
    )
    assert HubConfig.model_validate(tomllib.loads(render_config(config))) == config


def test_the_writer_refuses_a_source_name_added_past_validation(tmp_path: Path) -> None:
    home = HubHome(_home(tmp_path))
    before = home.config_file.read_bytes()
    config = home.load_config()
    config.sources["ǅ²"] = SourceConfig()  # a dict assignment bypasses the model's validation
    with pytest.raises(ConfigError, match=RULE):
        home.save_config(config)
    assert home.config_file.read_bytes() == before


def test_hub_toml_is_private(tmp_path: Path) -> None:
    home = HubHome(_home(tmp_path))
    assert _mode(home.config_file) == 0o600
    os.chmod(home.config_file, 0o644)
    home.save_config(home.load_config())
    assert _mode(home.config_file) == 0o600


def test_a_failed_write_leaves_the_old_hub_toml_whole(tmp_path: Path) -> None:
    """A value that cannot be encoded fails the write part-way: the old file must survive whole."""
    home = HubHome(_home(tmp_path))
    before, files = home.config_file.read_bytes(), sorted(home.path.iterdir())
    config = home.load_config()
    config.sources["caritas"].options["note"] = "\udc80"  # a lone surrogate: not UTF-8
    with pytest.raises(ValueError, match="surrogate"):
        home.save_config(config)
    assert home.config_file.read_bytes() == before
    assert sorted(home.path.iterdir()) == files  # no temporary file left behind


def test_a_write_that_cannot_be_made_durable_leaves_the_old_hub_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = HubHome(_home(tmp_path))
    before, files = home.config_file.read_bytes(), sorted(home.path.iterdir())
    config = home.load_config()
    config.sources["caritas"].settle_seconds = 5

    def no_disk(_descriptor: int) -> None:
        raise OSError("synthetic: the disk went away")

    monkeypatch.setattr(os, "fsync", no_disk)
    with pytest.raises(OSError, match="synthetic"):
        home.save_config(config)
    assert home.config_file.read_bytes() == before
    assert sorted(home.path.iterdir()) == files


# --- the key folder and the key files -------------------------------------------------------------


def test_a_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    elsewhere = create_key(tmp_path / "elsewhere")
    keys = tmp_path / "keys"
    create_key(keys)
    (keys / "hub-k1.key").unlink()
    (keys / "hub-k1.key").symlink_to(elsewhere)
    with pytest.raises(FatalError, match="symbolic link"):
        load_keys(keys)


def test_a_symlinked_key_folder_is_refused(tmp_path: Path) -> None:
    create_key(tmp_path / "real-keys")
    (tmp_path / "keys").symlink_to(tmp_path / "real-keys")
    with pytest.raises(FatalError, match="symbolic link"):
        load_keys(tmp_path / "keys")


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o770])
def test_a_key_folder_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    create_key(tmp_path / "keys")
    os.chmod(tmp_path / "keys", mode)
    with pytest.raises(FatalError, match="chmod 700"):
        load_keys(tmp_path / "keys")


def test_a_key_folder_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    create_key(tmp_path / "keys")
    someone_else = os.geteuid() + 1
    monkeypatch.setattr(os, "geteuid", lambda: someone_else)
    with pytest.raises(FatalError, match="not owned by"):
        load_keys(tmp_path / "keys")


def test_a_key_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder passes, the file's owner does not (its stat result is another user's)."""
    from kim_hub.hub_db import keystore

    create_key(tmp_path / "keys")
    real_fstat = os.fstat

    def foreign_file(descriptor: int) -> os.stat_result:
        found = real_fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):
            return found
        fields = list(found)
        fields[stat.ST_UID] = found.st_uid + 1
        return os.stat_result(fields)

    monkeypatch.setattr(keystore.os, "fstat", foreign_file)
    with pytest.raises(FatalError, match="key file .* not owned by"):
        load_keys(tmp_path / "keys")


def test_create_key_refuses_a_loose_folder_and_leaves_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "keys"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with pytest.raises(FatalError, match="chmod 700"):
        create_key(shared)
    assert _mode(shared) == 0o755
    assert list(shared.iterdir()) == []


def test_create_key_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "keys").symlink_to(tmp_path / "real")
    with pytest.raises(FatalError, match="symbolic link"):
        create_key(tmp_path / "keys")
    assert list((tmp_path / "real").iterdir()) == []


def test_create_key_makes_its_own_folder_private(tmp_path: Path) -> None:
    path = create_key(tmp_path / "nested" / "keys")
    assert _mode(path.parent) == 0o700 and _mode(path) == 0o600


def test_the_command_line_refuses_a_loose_key_folder_with_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = _home(tmp_path)
    os.chmod(home / "keys", 0o755)
    capsys.readouterr()
    assert main(["ingest", "--home", str(home)]) == 3
    assert "chmod 700" in capsys.readouterr().err
    assert _mode(home / "keys") == 0o755


# --- --out of report, links and monitoring --------------------------------------------------------

OUT_COMMANDS = {
    "report": ["report", "--format", "json"],
    "links": ["links"],
    "monitoring": ["monitoring", "--period", "2026-Q4"],
}


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_refuses_a_symlink_and_never_writes_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    home, victim = _home(tmp_path), _victim(tmp_path)
    out = tmp_path / "out.txt"
    out.symlink_to(victim)
    capsys.readouterr()
    assert main([*OUT_COMMANDS[command], "--out", str(out), "--home", str(home)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT
    assert out.is_symlink()


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_writes_a_private_file_through_no_planted_temporary_name(tmp_path: Path, command: str) -> None:
    """A link planted where a predictable temporary name would be is never followed."""
    home, victim = _home(tmp_path), _victim(tmp_path)
    out = tmp_path / "out.txt"
    (tmp_path / "out.txt.tmp").symlink_to(victim)
    assert main([*OUT_COMMANDS[command], "--out", str(out), "--home", str(home)]) == 0
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT
    assert out.read_text(encoding="utf-8") and not out.is_symlink()
    assert _mode(out) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out.txt", "out.txt.tmp", "victim.txt"]


def test_out_replaces_an_existing_file(tmp_path: Path) -> None:
    home = _home(tmp_path)
    out = tmp_path / "links.csv"
    out.write_text("an older export\n", encoding="utf-8")
    assert main(["links", "--out", str(out), "--home", str(home)]) == 0
    assert out.read_text(encoding="utf-8") == "source,record_id,person_id,link_status,score\n"


# --- Prefect's temporary API server ---------------------------------------------------------------


def test_the_temporary_api_server_requires_its_auth_string() -> None:
    """Any local user can reach a port on 127.0.0.1: without the command's own random auth string
    the API answers 401, with it 200; the health probe stays open (the start-up waits on it)."""
    from kim_hub.flows.temporary_api import start_temporary_api

    api = start_temporary_api()
    try:
        assert api.auth_string and ":" in api.auth_string
        assert _status(f"{api.url}/health") == 200
        assert _status(f"{api.url}/admin/version") == 401
        assert _status(f"{api.url}/admin/version", "kim-hub:wrong") == 401
        assert _status(f"{api.url}/admin/version", api.auth_string) == 200
    finally:
        api.stop()


def test_the_temporary_api_server_prints_into_its_own_log_not_the_commands_output(tmp_path: Path) -> None:
    """What the server prints (Prefect's errors, its database connections dropped when the command
    stops it) goes to a log in its Prefect home, the hub's account only: a cron job mails what the
    command prints, and that is the hub's own summary and messages."""
    from kim_hub.flows.temporary_api import SERVER_LOG, start_temporary_api

    prefect_home = tmp_path / "prefect"
    api = start_temporary_api(environment={**os.environ, "PREFECT_HOME": str(prefect_home)})
    try:
        log = prefect_home / SERVER_LOG
        assert _status(f"{api.url}/health") == 200
        for stream in (1, 2):
            assert Path(os.readlink(f"/proc/{api.server.pid}/fd/{stream}")) == log
        assert log.stat().st_mode & 0o777 == 0o600
    finally:
        api.stop()


def _status(url: str, auth: str | None = None) -> int:
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def _quoted(name: str) -> str:
    """A TOML quoted key for any test name (escapes the control characters TOML forbids raw)."""
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or c in '"\\' else c for c in name) + '"'
