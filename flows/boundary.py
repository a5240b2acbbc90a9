"""The boundary of every Prefect task and flow: what leaves it is a StepError, never the original.

Prefect turns an exception that leaves a task or flow into its state message ("Task run
encountered an exception ValueError: invalid literal for int() with base 10: '…'"), an event and
a run log with the traceback, all stored in its database; a library's message quotes the value it
choked on. So each task and flow body runs inside ``step_boundary``: any exception becomes a
``StepError`` naming the step and the exception's type (of the same operator action: a
ConfigError stays a ConfigError, a TransientError stays retried), raised ``from None`` so that
neither the message nor the chained traceback reaches Prefect.

The original is logged here in this process only, as its kind and frames without a message
(``flows.redaction``), at DEBUG on ``kim_hub.flows`` (a logger Prefect does not send to its API);
`kim-hub --debug` shows the same of the command's own flow run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kim_hub.core.errors import StepError, TransientError, step_error
from kim_hub.flows.redaction import value_free_traceback

log = logging.getLogger("kim_hub.flows")


@contextmanager
def step_boundary(step: str) -> Iterator[None]:
    """Run a task's or flow's body; let only a StepError leave it (``step``: the task's or flow's name)."""
    try:
        yield
    except StepError:
        raise  # a task's, passing through its flow: already reduced
    except Exception as error:  # noqa: BLE001 - every kind leaves as a StepError; BaseException (Prefect's signals) passes
        _log_locally(step, error)
        raise step_error(step, error) from None


def is_transient(task, task_run, state) -> bool:  # type: ignore[no-untyped-def]
    """Retry condition of the tasks: only errors that may go away by themselves."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:  # noqa: BLE001 - everything else is final
        return False
    return False


def _log_locally(step: str, error: Exception) -> None:
    """Where the step failed, for whoever reads this process's own log: kind and frames, no message."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s failed (%s):\n%s", step, type(error).__name__, value_free_traceback(error))
