"""How a failed command ends: one line naming the kind of error and what to do, and its exit code.

A traceback would quote values (a library's exception message names the cell, the date, the
number it choked on), so a command that fails prints one line on stderr: what kind of failure
(by the operator's action), the exception's type, the hub's own message where there is one (hub
messages name files, fields and settings, never values), and a hint. ``--debug`` adds the
traceback, value-free: frames and kinds, each frame's text through the redaction, no message
(a StepError's excepted, made of names), no locals; for a flow step, also where the original
error arose (``flows.redaction.value_free_traceback``).

Exit codes stay those of ``cli.commands``: 2 configuration, usage or another hub error, 3
refused, 5 anything unexpected (a bug, or an input nobody foresaw), also when it left a flow step.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from kim_hub.cli.commands import EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE
from kim_hub.core.errors import BadInputError, ConfigError, FatalError, HubError, StepError, TransientError
from kim_hub.flows.redaction import kind_of, redact, value_free_traceback

DEBUG_HINT = "run the command again with --debug to see where it failed (code locations only, never values)"


@dataclass(frozen=True)
class Failure:
    """What an operator is told about one kind of failure: a label, a hint, an exit code."""

    label: str
    hint: str
    code: int


CONFIG_HINT = "correct hub.toml or the command line; `kim-hub sources check` tests each source"
REFUSED_HINT = "the hub stopped to keep data safe: remove the cause named here, then run again"
FAILURES: tuple[tuple[type[Exception], Failure], ...] = (
    (ConfigError, Failure("configuration error", CONFIG_HINT, EXIT_USAGE)),
    (FatalError, Failure("refused", REFUSED_HINT, EXIT_REFUSED)),
    (TransientError, Failure("temporary failure", "this may pass by itself: run the command again later", EXIT_USAGE)),
    (BadInputError, Failure("unusable input", "correct or replace the input named here", EXIT_USAGE)),
)
HUB_ERROR = Failure("error", DEBUG_HINT, EXIT_USAGE)
UNEXPECTED = Failure("failed unexpectedly", DEBUG_HINT, EXIT_FAILED)


def failure_of(error: Exception) -> Failure:
    """The operator's action for ``error``; a StepError keeps the action of the error it was made from."""
    if isinstance(error, StepError) and error.unexpected:
        return UNEXPECTED
    for kind, failure in FAILURES:
        if isinstance(error, kind):
            return failure
    return HUB_ERROR if isinstance(error, HubError) else UNEXPECTED


def error_line(error: Exception, debug: bool = False) -> str:
    """The one line a failed command prints: label, kind, the hub's own words or the step, hint."""
    failure = failure_of(error)
    hint = "the traceback above shows where it failed" if debug and failure.hint == DEBUG_HINT else failure.hint
    line = f"kim-hub: {failure.label} ({kind_of(error)}){_detail(error)}; hint: {hint}"
    return redact(" ".join(line.split()))


def _detail(error: Exception) -> str:
    """Where it failed (a flow step), or the hub's own message; nothing of a library's message."""
    if isinstance(error, StepError):
        return f" in {error.step}"
    if isinstance(error, HubError):
        return f": {error}"
    return ""


def report_error(error: Exception, debug: bool = False) -> int:
    """Print the failure (with ``debug``, the value-free traceback first) and return its exit code."""
    if debug:
        print(value_free_traceback(error, origins=True), end="", file=sys.stderr)
    print(error_line(error, debug), file=sys.stderr)
    return failure_of(error).code
