"""Errors never carry values (issue 19): the step boundary, the redacting filter, Prefect's handlers, pydantic.

What leaves a Prefect task or flow is a StepError of the same operator action, naming the step and
the exception's type, raised ``from None``; every log handler Prefect configures carries the
redacting filter, which renders a record's exception without its message; the pydantic models
that hold person data never put the input into their errors. The whole path through a real flow
run is tests/e2e/test_no_values_escape.py.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import traceback

import pytest
from pydantic import ValidationError

from kim_hub.core.errors import (
    ConfigError,
    FatalError,
    StepConfigError,
    StepError,
    StepFatalError,
    StepTransientError,
    TransientError,
    step_error,
)
from kim_hub.flows.boundary import step_boundary
from kim_hub.flows.prefect_setup import LOGGING_CONFIG, LOGGING_CONFIG_VARIABLES, install_redaction
from kim_hub.flows.redaction import RedactingFilter, kind_of, value_free_traceback
from kim_hub.mappings.case_summary import BirthDate, CaseData, Consent, Identity, PersonName

NAME, AZR, BIRTH = "Zyxwvutsrq", "987654321098", "1913-07-13"
CANARY = f"{NAME} {AZR} {BIRTH}"


def _parse_canary() -> int:
    return int(CANARY)  # ValueError: invalid literal for int() with base 10: '<the canary>'


def _reduced(step: str = "write-report") -> StepError:
    with pytest.raises(StepError) as caught, step_boundary(step):
        _parse_canary()
    return caught.value


# --- the step boundary ----------------------------------------------------------------------


def test_an_exception_leaves_a_step_as_its_kind_only() -> None:
    error = _reduced()
    assert type(error) is StepError and error.unexpected
    assert (error.step, error.kind, str(error)) == ("write-report", "ValueError", "write-report failed (ValueError)")
    assert error.__cause__ is None and error.__suppress_context__, "raised from None"
    printed = "".join(traceback.format_exception(error))
    assert "ValueError" not in printed.replace("(ValueError)", "") and NAME not in printed and AZR not in printed


def test_a_step_error_keeps_the_operator_action_of_a_hub_error() -> None:
    assert isinstance(step_error("push-summaries", ConfigError(f"bad {NAME}")), StepConfigError)
    assert isinstance(step_error("push-summaries", FatalError("exposed")), StepFatalError)
    transient = step_error("ingest-source", TransientError("locked"))
    assert isinstance(transient, StepTransientError) and isinstance(transient, TransientError), "still retried"
    assert not transient.unexpected and NAME not in str(step_error("x", ConfigError(NAME)))


def test_a_step_error_passes_its_flow_unchanged() -> None:
    inner = _reduced("write-report")
    with pytest.raises(StepError) as caught, step_boundary("kim-hub-sync"):
        raise inner
    assert caught.value is inner and kind_of(caught.value) == "ValueError"


def test_a_step_error_pickles_as_its_two_names() -> None:
    error = _reduced()
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is StepError and (copy.step, copy.kind) == (error.step, error.kind)
    assert NAME.encode() not in pickle.dumps(error)


def test_the_original_is_logged_locally_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="kim_hub.flows"):
        _reduced()
    logged = caplog.text
    assert "write-report failed (ValueError)" in logged and "_parse_canary" in logged
    assert NAME not in logged and AZR not in logged


def test_a_transient_error_behind_a_step_is_still_retried() -> None:
    from kim_hub.flows.sync import _is_transient

    class _Failed:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def result(self) -> None:
            raise self.error

    assert _is_transient(None, None, _Failed(step_error("ingest-source", TransientError("locked"))))
    assert not _is_transient(None, None, _Failed(step_error("ingest-source", ConfigError("no connector"))))
    assert not _is_transient(None, None, _Failed(_reduced()))


# --- the redacting filter ---------------------------------------------------------------------


def _formatted(record: logging.LogRecord) -> str:
    RedactingFilter().filter(record)
    return logging.Formatter("%(message)s").format(record)


def _record(message: str, *args: object, exc_info: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc_info), exc_info, exc_info.__traceback__) if exc_info else None
    return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, message, args, info)


def test_a_records_exception_reaches_no_handler_with_its_message() -> None:
    try:
        _parse_canary()
    except ValueError as error:
        text = _formatted(_record("Task run failed", exc_info=error))
    assert "Traceback (most recent call last)" in text and "_parse_canary" in text
    assert "ValueError (message withheld" in text
    assert NAME not in text and AZR not in text and BIRTH not in text


def test_a_step_errors_record_is_its_message_alone() -> None:
    error = _reduced()
    text = _formatted(_record("Task run failed with exception: %r", error, exc_info=error))
    assert "write-report failed (ValueError)" in text and "Traceback" not in text


def test_identifiers_are_masked_and_exceptions_in_arguments_reduced() -> None:
    assert _formatted(_record("row of %s born %s", AZR, "13.07.1913")) == "row of [redacted] born [redacted]"
    assert NAME not in _formatted(_record("failed: %s", ValueError(f"bad {NAME}")))
    assert NAME not in _formatted(_record("%s %s", NAME)), "an unformattable record is withheld, not printed raw"


def test_every_handler_of_the_hubs_logging_configuration_names_the_filter() -> None:
    import yaml

    config = yaml.safe_load(LOGGING_CONFIG.read_text(encoding="utf-8"))
    assert config["filters"]["redact"]["()"] == "kim_hub.flows.redaction.RedactingFilter"
    assert {name: handler.get("filters") for name, handler in config["handlers"].items()} == {
        name: ["redact"] for name in config["handlers"]
    }
    assert config["handlers"]["api"]["class"] == "prefect.logging.handlers.APILogHandler"


def test_install_redaction_reaches_the_handlers_of_every_logger() -> None:
    """As Prefect's API handler sits on ``prefect.task_runs``, not on ``prefect`` or the root."""
    handler = logging.NullHandler()
    logger = logging.getLogger("kim_hub_test.task_runs")
    logger.addHandler(handler)
    try:
        install_redaction()
        assert [type(f) for f in handler.filters] == [RedactingFilter]
        install_redaction()
        assert len(handler.filters) == 1, "once only"
    finally:
        logger.removeHandler(handler)


PREFECT_HANDLERS = """
import json, logging
from prefect import flow  # Prefect sets up its logging (from PREFECT_LOGGING_CONFIG_PATH) on first use
from kim_hub.flows.redaction import RedactingFilter
loggers = {"root": logging.getLogger(), **logging.Logger.manager.loggerDict}
print(json.dumps({
    name: {type(h).__name__: any(isinstance(f, RedactingFilter) for f in h.filters) for h in logger.handlers}
    for name, logger in loggers.items() if getattr(logger, "handlers", None)
}))
"""


def test_prefect_attaches_the_filter_to_every_handler_it_sets_up(tmp_path) -> None:
    """Prefect configured as `kim-hub` configures it (a fresh process: Prefect reads its logging
    configuration once, at import): every handler, the API's included, carries the filter."""
    environment = {**os.environ, "PREFECT_HOME": str(tmp_path), **dict.fromkeys(LOGGING_CONFIG_VARIABLES, str(LOGGING_CONFIG))}
    result = subprocess.run(
        [sys.executable, "-c", PREFECT_HANDLERS], env=environment, capture_output=True, text=True, timeout=120, check=True
    )
    handlers = json.loads(result.stdout.strip().splitlines()[-1])
    assert handlers["prefect.task_runs"] == {"APILogHandler": True}
    assert handlers["prefect.flow_runs"] == {"APILogHandler": True}
    assert handlers["root"] == {"PrefectConsoleHandler": True}
    assert all(all(filtered.values()) for filtered in handlers.values()), handlers


# --- pydantic models that hold person data ---------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: BirthDate(year=NAME, precision="day"),  # type: ignore[arg-type]
        lambda: PersonName(family_name=[NAME]),  # type: ignore[arg-type]
        lambda: Identity(name=PersonName(family_name=NAME), azr_number=[AZR], sex=NAME),  # type: ignore[arg-type]
        lambda: CaseData(source="caritas", record_id=NAME * 10),
        lambda: Consent(purpose=NAME * 10, valid_from=BIRTH + "x"),
    ],
    ids=["birth date", "name", "identity", "case data", "consent"],
)
def test_a_validation_error_names_no_input(build) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    text = str(caught.value) + repr(caught.value)
    assert "input_value" not in text and NAME not in text and AZR not in text
    assert value_free_traceback(caught.value).count(NAME) == 0
