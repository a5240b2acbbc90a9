"""A failed command prints one line (kind and hint, never a value); `--debug` adds a value-free traceback.

In process: a command's handler is replaced by one that fails the way a flow step or a library
fails, with a canary identity in the exception's message, in a local variable and in the code
line that raises.
"""

from __future__ import annotations

import pytest

from kim_hub.cli import data
from kim_hub.cli.main import build_parser, main
from kim_hub.core.errors import ConfigError, FatalError, TransientError
from kim_hub.flows.boundary import step_boundary

NAME, AZR = "Zyxwvutsrq", "987654321098"


def _library_failure() -> None:
    person = f"{NAME} {AZR}"  # a local: --debug shows no locals
    raise ValueError("invalid literal for int() with base 10: '987654321098' " + person)


def _failing_step() -> None:
    with step_boundary("write-report"):
        _library_failure()


def _fail_with(monkeypatch: pytest.MonkeyPatch, failure: object) -> None:
    """`kim-hub schema` (a command without a home) made to fail: ``failure`` is raised or called."""

    def handler(_args: object) -> int:
        if isinstance(failure, BaseException):
            raise failure
        failure()  # type: ignore[operator]
        return 0

    monkeypatch.setattr(data, "cmd_schema", handler)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def test_an_unexpected_error_is_one_line_with_its_kind_and_a_hint(monkeypatch, capsys) -> None:
    _fail_with(monkeypatch, _library_failure)
    code, err = _run(capsys, "schema")
    assert code == 5
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("kim-hub: failed unexpectedly (ValueError); hint: ") and "--debug" in err
    assert NAME not in err and AZR not in err


def test_a_failed_flow_step_names_the_step_and_the_original_kind(monkeypatch, capsys) -> None:
    _fail_with(monkeypatch, _failing_step)
    code, err = _run(capsys, "schema")
    assert code == 5, "unexpected, as before the boundary"
    assert err.startswith("kim-hub: failed unexpectedly (ValueError) in write-report; hint: ") and err.count("\n") == 1
    assert NAME not in err and AZR not in err


@pytest.mark.parametrize(
    ("failure", "code", "start"),
    [
        (ConfigError("hub.toml not found: run 'kim-hub init' first"), 2, "kim-hub: configuration error (ConfigError): hub.toml"),
        (FatalError("key file readable by others: chmod 600 it"), 3, "kim-hub: refused (FatalError): key file"),
        (TransientError("database temporarily unavailable"), 2, "kim-hub: temporary failure (TransientError): database"),
    ],
    ids=["configuration", "refused", "transient"],
)
def test_hub_errors_keep_their_exit_code_and_their_own_words(monkeypatch, capsys, failure, code, start) -> None:
    _fail_with(monkeypatch, failure)
    exit_code, err = _run(capsys, "schema")
    assert exit_code == code and err.startswith(start) and "; hint: " in err and err.count("\n") == 1


def test_a_hub_error_leaving_a_flow_step_keeps_its_exit_code(monkeypatch, capsys) -> None:
    def config_error_in_a_step() -> None:
        with step_boundary("push-summaries"):
            raise ConfigError(f"rest connector: option for {NAME} is missing")

    _fail_with(monkeypatch, config_error_in_a_step)
    code, err = _run(capsys, "schema")
    assert code == 2 and err.startswith("kim-hub: configuration error (ConfigError) in push-summaries; hint: ")
    assert NAME not in err


def test_a_hub_message_is_masked_and_kept_to_one_line(monkeypatch, capsys) -> None:
    _fail_with(monkeypatch, ConfigError(f"line one {AZR}\nline two 13.07.1913"))
    _code, err = _run(capsys, "schema")
    assert err.count("\n") == 1 and AZR not in err and "13.07.1913" not in err and "[redacted]" in err


@pytest.mark.parametrize("argv", [("--debug", "schema"), ("schema", "--debug")], ids=["before", "after"])
def test_debug_shows_where_it_failed_without_a_value(monkeypatch, capsys, argv) -> None:
    _fail_with(monkeypatch, _failing_step)
    code, err = _run(capsys, *argv)
    assert code == 5
    assert "Traceback (most recent call last)" in err
    assert "in _library_failure" in err and "in _failing_step" in err, "the original's frames, behind the step"
    assert "ValueError (message withheld" in err and "StepError: write-report failed (ValueError)" in err
    assert NAME not in err and AZR not in err, "no message, no locals, the frames' code through the filter"
    assert "[redacted]" in err, "the raising line quotes an AZR-shaped literal: masked"
    assert err.splitlines()[-1] == (
        "kim-hub: failed unexpectedly (ValueError) in write-report; hint: the traceback above shows where it failed"
    )


def test_debug_is_off_unless_asked_for() -> None:
    parser = build_parser()
    assert parser.parse_args(["schema"]).debug is False
    assert parser.parse_args(["--debug", "schema"]).debug is True
    assert parser.parse_args(["schema", "--debug"]).debug is True
