"""Who acts on the hub's data, and why: the two facts every audit log entry carries besides what.

``Actor`` is whoever the hub acts for: on the command line the operating-system user the process
runs as (the *effective* uid, looked up in the password database, never ``$USER``, which the
caller sets), later the authenticated user of the web application, who passes its own. ``Access``
is why person-level data is read: a purpose (each reading command has a default) and, where the
task has one, a case reference (Aktenzeichen). Both are recorded as given, so they are held to a
narrow alphabet; they must name a task and a file number, never a person.
"""

from __future__ import annotations

import os
import pwd
import re
from dataclasses import dataclass

from kim_hub.core.errors import ConfigError

ACTOR_KINDS = ("os", "web", "api", "migrated")
"""os: a user of this machine (the CLI, flows, schedules); web: an authenticated user of the web
application; api: a body calling the hub's API, named ``<body>:<token id>`` (the body and the
token it authenticated with, never the token; ``unauthenticated``: a call without a valid token);
migrated: an entry written before the audit log recorded actors."""

READ_PURPOSES = {
    "links.export": "export of the master index",
    "review.list": "review of uncertain matches",
    "review.show": "review of an uncertain match",
    "review.preview": "review of an uncertain match: what a decision would send",
    "gaps.list": "chain gap worklist",
    "transitions.list": "Rechtskreis transition worklist",
    "report.write": "coordination report",
    "gaps.export": "chain gap worklist, exported",
    "transitions.export": "Rechtskreis transition worklist, exported",
    "report.show": "coordination report",
    "summaries.collect": "collection of the body's summaries over the hub's API",
}
"""Each read's purpose when its caller names none (``Access.purpose`` None), by audit action."""

_ACTOR_NAME = re.compile(r"[\w.@+-]{1,100}")
_API_ACTOR_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}:[\w.-]{1,58}|unauthenticated")  # <body>:<token id>, as api:… within 128
_PURPOSE = re.compile(r"\w[\w .,;:()/§&+'-]{0,119}")
_CASE_REF = re.compile(r"\w[\w ./:#-]{0,63}")


@dataclass(frozen=True)
class Actor:
    """Who acted: a kind (``ACTOR_KINDS``) and a name within it; written as ``kind:name``."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ConfigError(f"an actor's kind must be one of {', '.join(ACTOR_KINDS)}")
        if self.kind == "api":
            if not _API_ACTOR_NAME.fullmatch(self.name):
                raise ConfigError("an API actor's name must be <body>:<token id> (letters, digits and . - _)")
        elif not _ACTOR_NAME.fullmatch(self.name):
            raise ConfigError("an actor's name must be 1-100 letters, digits or . @ + - _")

    @classmethod
    def os_user(cls) -> Actor:
        """The user this process runs as: the effective uid's name in the password database
        (``uid-N`` where the uid has no entry, as in some containers)."""
        uid = os.geteuid()
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = ""
        return cls("os", name if _ACTOR_NAME.fullmatch(name) else f"uid-{uid}")

    @classmethod
    def api(cls, body: str, token_id: str) -> Actor:
        """A body calling the hub's API with one of its tokens (``api:<body>:<token id>``)."""
        return cls("api", f"{body}:{token_id}")

    @property
    def api_body(self) -> str | None:
        """The body an API actor acts for; None for any other actor."""
        return self.name.split(":", 1)[0] if self.kind == "api" else None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Access:
    """Why person-level data is read. ``purpose`` None: the reading command's own default."""

    purpose: str | None = None
    case_ref: str | None = None

    def __post_init__(self) -> None:
        if self.purpose is not None and not _PURPOSE.fullmatch(self.purpose):
            raise ConfigError(
                "--purpose must be 1-120 characters: letters, digits, spaces and . , ; : ( ) / § & + ' -; "
                "name the task, never a person"
            )
        if self.case_ref is not None and not _CASE_REF.fullmatch(self.case_ref):
            raise ConfigError("--case-ref must be 1-64 characters: letters, digits, spaces and . / : # -")
