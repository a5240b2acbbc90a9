"""Where the tests find things: the repository, its test fixtures, and ../shared.

``../shared`` (next to the project root) holds the formats and the sample data every developer
and CI have at hand (its README says so). It is found one way, ``SHARED``, with one policy: a
test that needs it and does not find it *fails* with a message that says where it looked. A
silent skip would let a CI without the samples pass while testing nothing of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the package ``kim_hub``)."""

FIXTURES = ROOT / "tests" / "fixtures"
"""Small hand-made files of the tests (job-centre export, authority XML, hostile XML)."""

PLUGINS = ROOT / "tests" / "plugins"
"""The test plug-in (a municipality's own connector), on pytest's ``pythonpath``."""

SHARED = ROOT.parent / "shared"
"""``../shared``: formats and samples of the workplace (see the module docstring)."""


def shared(*parts: str) -> Path:
    """``../shared/<parts>``; fails the test (or, called at import, its module's collection) if missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the tests need ../shared (formats and samples) next to the project root "
            f"{ROOT}; it is part of the workplace and of CI, so its absence is a failure, not a skip",
            pytrace=False,
        )
    return path


def sample(name: str = "standard") -> Path:
    """A sample of ../shared/samples (``standard``: provider CSV only; ``native``: each source's own format)."""
    return shared("samples", name)
