"""The command line, in process (no Prefect flow runs here: those are in tests/e2e)."""

from __future__ import annotations

import json
import os

import pytest

from kim_hub.cli.main import main

COMMANDS = ("init", "sources", "ingest", "links", "generate", "schema", "demo", "review", "reestimate")


def test_help_explains_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in text


def test_commands_on_a_missing_home_are_configuration_errors(tmp_path, capsys) -> None:
    assert main(["links", "--home", str(tmp_path / "nowhere")]) == 2
    assert "kim-hub init" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["links", "--format", "xml"])
    assert exit_info.value.code == 2


def test_init_is_idempotent_and_private(tmp_path) -> None:
    home = tmp_path / "home"
    assert main(["init", "--home", str(home)]) == 0
    config, key = (home / "hub.toml").read_text(), next((home / "keys").glob("*.key")).read_bytes()
    assert main(["init", "--home", str(home)]) == 0
    assert (home / "hub.toml").read_text() == config
    assert next((home / "keys").glob("*.key")).read_bytes() == key
    for source in ("abh", "jobcenter", "caritas", "awo", "diakonie", "stadt"):
        assert (home / "inbox" / source).is_dir()


def test_init_names_the_encoding_scheme_and_the_upgrade(tmp_path, capsys) -> None:
    """A new home encodes with the current scheme; an older home's key (no scheme marker) is
    told how to move to it (docs/operations.md, "Upgrading the encoding scheme")."""
    home = tmp_path / "home"
    assert main(["init", "--home", str(home)]) == 0
    assert "encodings      key k1, scheme 2" in capsys.readouterr().out
    (home / "keys" / "scheme-k1").unlink()  # as a home made before scheme 2
    assert main(["init", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "key k1, scheme 1" in out and "'kim-hub keys rotate' re-encodes every record" in out


def test_home_from_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KIM_HUB_HOME", str(tmp_path / "envhome"))
    assert main(["init"]) == 0
    assert (tmp_path / "envhome" / "hub.toml").exists()


def test_sources_add_validates(tmp_path, capsys) -> None:
    home = str(tmp_path / "home")
    main(["init", "--home", home])
    assert main(["sources", "add", "../evil", "--home", home]) == 2
    assert main(["sources", "add", "malteser", "--connector", "nope", "--home", home]) == 2
    assert main(["sources", "add", "malteser", "--home", home]) == 0
    assert (tmp_path / "home" / "inbox" / "malteser").is_dir()
    assert "[sources.malteser]" in (tmp_path / "home" / "hub.toml").read_text()
    capsys.readouterr()
    assert main(["sources", "list", "--home", home]) == 0
    assert "malteser" in capsys.readouterr().out


def test_schema_is_json_schema_of_the_case_summary(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(schema["properties"]) == {"identity", "case"}


def test_links_of_an_empty_index(tmp_path, capsys) -> None:
    home = str(tmp_path / "home")
    main(["init", "--home", home])
    capsys.readouterr()
    assert main(["links", "--home", home]) == 0
    assert capsys.readouterr().out == "source,record_id,person_id,link_status,score\n"


def test_refuses_to_run_with_an_exposed_key(tmp_path, capsys) -> None:
    home = tmp_path / "home"
    main(["init", "--home", str(home)])
    os.chmod(next((home / "keys").glob("*.key")), 0o644)
    assert main(["ingest", "--home", str(home)]) == 3
    assert "chmod 600" in capsys.readouterr().err


def test_generate_writes_drop_files_and_truth(tmp_path) -> None:
    assert main(["generate", str(tmp_path / "out"), "--persons", "50", "--seed", "3"]) == 0
    assert (tmp_path / "out" / "truth.csv").exists()
    assert len(list((tmp_path / "out" / "inbox").rglob("*.csv"))) == 6


def test_locked_database_is_a_transient_error_and_only_that_is_retried() -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from kim_hub.core.errors import TransientError
    from kim_hub.flows.sync import _is_transient, _transient_database_errors

    with pytest.raises(TransientError):
        with _transient_database_errors():
            raise OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))

    class _State:
        def __init__(self, exc: Exception) -> None:
            self.exc = exc

        def result(self) -> None:
            raise self.exc

    assert _is_transient(None, None, _State(TransientError("x")))
    assert not _is_transient(None, None, _State(ValueError("x")))
