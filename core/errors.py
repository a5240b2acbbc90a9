"""The hub's exception tree, grouped by what the operator has to do.

    HubError                      root: everything kim-hub raises on purpose
    ├── ConfigError               fix hub.toml / the command line (exit code 2)
    ├── BadInputError             a file or row is unusable: quarantine it, keep going
    ├── TransientError            retry later (network, locked database); Prefect retries these
    └── FatalError                stop: the hub cannot continue safely (e.g. an exposed key)
    StepError                     what leaves a Prefect task or flow in place of any exception:
                                  the step and the kind of the error, nothing of its message;
                                  its subclasses keep the operator's action of a hub error
                                  (StepConfigError is a ConfigError, StepTransientError a
                                  TransientError, …), a plain StepError stands for anything else

Messages are written for people and never carry personal data: they name files, rows and
fields, not values. Third-party messages do quote values (pydantic's ``input_value``, ``int()``'s
"invalid literal"), so an exception that leaves a Prefect task or flow becomes a ``StepError``
(``step_error``): Prefect writes what leaves a task into its state messages, events and API logs.
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


class StepError(HubError):
    """A step (a Prefect task or flow) failed; says which and the kind of error, never a value.

    Prefect stores the message of an exception leaving a task or flow (state messages, events,
    run logs), so this message is built from names only. ``kind`` is the original exception's
    type name, which the run summary and the command line show.
    """

    def __init__(self, step: str, kind: str) -> None:
        super().__init__(f"{step} failed ({kind})")
        self.step = step
        self.kind = kind

    def __reduce__(self) -> tuple[type[StepError], tuple[str, str]]:
        """Pickled (by Prefect, a process pool) as its two names: nothing else travels with it."""
        return (type(self), (self.step, self.kind))

    @property
    def unexpected(self) -> bool:
        """True unless the original was one of the hub's own kinds (a bug or an unforeseen input)."""
        return not isinstance(self, (ConfigError, BadInputError, TransientError, FatalError))


class StepConfigError(StepError, ConfigError):
    """A step failed on the configuration (the operator fixes hub.toml)."""


class StepBadInputError(StepError, BadInputError):
    """A step failed on unusable input."""


class StepTransientError(StepError, TransientError):
    """A step failed for a reason that may pass: Prefect's retry condition still sees a TransientError."""


class StepFatalError(StepError, FatalError):
    """A step refused to go on (an exposed key): the command still exits as refused."""


_STEP_ERRORS: tuple[tuple[type[HubError], type[StepError]], ...] = (
    (FatalError, StepFatalError),
    (ConfigError, StepConfigError),
    (TransientError, StepTransientError),
    (BadInputError, StepBadInputError),
)


def step_error(step: str, error: BaseException) -> StepError:
    """``error`` reduced to a StepError of the same operator action; a StepError stays as it is
    (a task's, passing through its flow)."""
    if isinstance(error, StepError):
        return error
    for kind, reduced in _STEP_ERRORS:
        if isinstance(error, kind):
            return reduced(step, type(error).__name__)
    return StepError(step, type(error).__name__)
