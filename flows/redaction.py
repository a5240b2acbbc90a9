"""What a log handler or the terminal may receive of an error: its kind and where, never a value.

Prefect sends run logs to its API (``APILogHandler`` on ``prefect.flow_runs`` and
``prefect.task_runs``), which stores them in its database; third-party exception messages quote
the offending value (pydantic's ``input_value='…'``, ``int()``'s "invalid literal …"). So
``RedactingFilter`` sits on every handler (``flows/logging.yml``, ``prefect_setup``) and applies
two rules to each record:

* an exception never reaches a handler with its message: a record's traceback is rendered as
  frames (file, line, function, code) and the exception's kind (``value_free_traceback``); a
  ``StepError``, whose frames are Prefect's engine and the step boundary, by its message alone,
  which is made of names;
* text shaped like an AZR number or a birth date is masked: the last line of defence for a value
  a library writes into a log message itself (a name has no shape and is caught only by the rule
  above and by ``flows.boundary``).

This module imports nothing of Prefect: Prefect's logging set-up imports it while Prefect itself
is being imported.
"""

from __future__ import annotations

import logging
import re
import traceback

from kim_hub.core.errors import StepError

MASK = "[redacted]"
PATTERNS = (
    re.compile(r"\b\d{12}\b"),  # AZR number
    re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"),  # DD.MM.YYYY
    re.compile(r"\b(19|20)\d{2}-\d{2}-\d{2}\b"),  # ISO date
)
WITHHELD = "(message withheld: it may quote a value)"
UNFORMATTABLE = "a log message that could not be formatted (withheld)"
CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
REDUCED = "\nThe step reduced the exception above to the following (all that Prefect saw):\n\n"


def redact(text: str) -> str:
    """``text`` with everything shaped like an AZR number or a birth date masked."""
    for pattern in PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def kind_of(error: BaseException) -> str:
    """The name an operator reads for an exception: a StepError's original kind, else its type's name."""
    return error.kind if isinstance(error, StepError) else type(error).__name__


def value_free_traceback(error: BaseException, origins: bool = False) -> str:
    """The traceback of ``error`` and of the exceptions chained to it, as Python prints it but
    without a single message (a StepError's, made of names, excepted) and without locals; each
    frame's text goes through ``redact``.

    ``origins``: also show the exception a StepError was made from (its suppressed context). Only
    the command line's ``--debug`` asks for it, in the process that ran the flow; Prefect never
    sees it, as the boundary raised the StepError ``from None``.
    """
    chain = _chain(error, origins)
    parts = []
    for position, link in enumerate(chain):
        if position:
            parts.append(_link_text(chain[position - 1], link))
        parts.append(_one_exception(link))
    return "".join(parts)


def _chain(error: BaseException, origins: bool) -> list[BaseException]:
    """``error`` and what it came from, oldest first (as Python prints a chain)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = _predecessor(current, origins)
    return chain[::-1]


def _predecessor(error: BaseException, origins: bool) -> BaseException | None:
    if error.__cause__ is not None:
        return error.__cause__
    if error.__suppress_context__ and not (origins and isinstance(error, StepError)):
        return None
    return error.__context__


def _link_text(earlier: BaseException, later: BaseException) -> str:
    if later.__cause__ is earlier:
        return CAUSE
    return REDUCED if later.__suppress_context__ else CONTEXT


def _one_exception(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__).format() if error.__traceback__ else []
    head = "Traceback (most recent call last):\n" if frames else ""
    return head + "".join(redact(frame) for frame in frames) + _kind_line(error) + "\n"


def _kind_line(error: BaseException) -> str:
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name}: {redact(str(error))}" if isinstance(error, StepError) else f"{name} {WITHHELD}"


class RedactingFilter(logging.Filter):
    """The filter on every log handler: a record's exception without its message, identifiers masked.

    The hub never logs identity on purpose; this catches what a library or Prefect's engine might
    echo (a value inside an exception message). It changes the record itself, so every handler
    after the first sees the redacted record too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_message(record)
        _redact_exception(record)
        return True


def _redact_message(record: logging.LogRecord) -> None:
    """The record's message, formatted, with exceptions in it reduced to their kind and identifiers masked."""
    if isinstance(record.msg, BaseException):
        record.msg = _kind_line(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_kind_line(arg) if isinstance(arg, BaseException) else arg for arg in record.args)
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):  # logging would print msg and args raw to stderr
        record.msg, record.args = UNFORMATTABLE, None
        return
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None


def _redact_exception(record: logging.LogRecord) -> None:
    """The record's traceback rendered without messages (a StepError's dropped: its message says it all)."""
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        record.exc_text = None if isinstance(error, StepError) else value_free_traceback(error).rstrip("\n")
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
