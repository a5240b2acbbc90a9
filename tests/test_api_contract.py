"""The providers' API fuzzed against its own OpenAPI document (schemathesis, in-process on the ASGI
application): for every operation, generated requests, valid and invalid, sent once with a valid
token on the token's own source or body, once with another body's token there and once with a
token the hub never issued. No answer is a 5xx,
and every answer (status, content type, headers, body) is one the document declares.

Kept small: ``MAX_EXAMPLES`` generated cases per operation (positive and negative), without
schemathesis' deterministic coverage phase (hypothesis' explicit phase), which sends hundreds of
boundary cases per operation; a delivery that lands is a whole ingest, and every call opens the
database and writes the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kim_hub.pipeline.api_tokens import issue_token
from kim_hub.web.api import openapi_text
from kim_hub.web.app import create_app
from tests.support import Hub, sqlite_url
from tests.support.scenarios import collecting, samira_pushed

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The API of a home with one token of caritas (every scope), no practical rate limit, caritas
    collecting its summaries and one summary waiting for it."""
    path: Path = tmp_path_factory.mktemp("api-contract")
    hub = collecting(Hub.create(path / "home", sqlite_url(path / "hub.db")), "caritas")
    hub.config = hub.config.model_copy(update={"api": hub.config.api.model_copy(update={"requests_per_minute": 1_000_000})})
    hub.home.save_config(hub.config)
    samira_pushed(hub)
    TOKEN["valid"] = issue_token(hub.home, "caritas", ["deliver", "receipts", "collect"], dt.timedelta(days=1))[0]
    TOKEN["other body"] = issue_token(hub.home, "jobcenter", ["deliver", "receipts", "collect"], dt.timedelta(days=1))[0]
    yield create_app(hub.home)
    hub.close()


# the document the code generates (test_api.py holds the checked-in one to it); the application
# is handed to each call: schemathesis' lazy loading from a fixture does not run under pytest 9
schema = schemathesis.openapi.from_dict(json.loads(openapi_text()))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
def test_every_answer_matches_the_document_and_none_is_a_server_error(case: schemathesis.Case, api_app: object) -> None:
    stranger = case.call_and_validate(
        headers={"Authorization": f"Bearer kimh_{secrets.token_urlsafe(32)}"}, checks=CHECKS, app=api_app
    )
    assert stranger.status_code in (401, 413, 404, 405)  # nothing reaches an operation without a token
    own = {name: "caritas" for name in ("source", "body") if name in (case.path_parameters or {})}
    case.path_parameters = {**(case.path_parameters or {}), **own}
    other = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN['other body']}"}, checks=CHECKS, app=api_app)
    # caritas' source and body are not the job centre's (401: a negative case that spoils the token)
    assert other.status_code in (401, 404, 405, 413)
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN['valid']}"}, checks=CHECKS, app=api_app)


def test_sequences_along_the_documents_links_match_the_document(api_app: object) -> None:
    """Stateful: deliveries and receipt lists followed to the receipt they name (the document's
    links), with the caritas token on caritas' source and body; every answer is checked as above."""
    answered: list[tuple[str, int]] = []
    linked = schemathesis.openapi.from_dict(json.loads(openapi_text()))
    linked.app = api_app  # type: ignore[attr-defined]
    base = linked.as_state_machine()

    class OwnBody(base):  # type: ignore[misc, valid-type]
        def before_call(self, case: schemathesis.Case) -> None:
            own = {name: "caritas" for name in ("source", "body") if name in (case.path_parameters or {})}
            case.path_parameters = {**(case.path_parameters or {}), **own}

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": {"Authorization": f"Bearer {TOKEN['valid']}"}, "app": api_app}

        def validate_response(self, response: object, case: schemathesis.Case, **kwargs: object) -> None:
            answered.append((case.operation.label, response.status_code))  # type: ignore[attr-defined]
            case.validate_response(response, checks=CHECKS)

    OwnBody.run(
        settings=settings(
            max_examples=MAX_EXAMPLES, stateful_step_count=4, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )
    # the links were followed: a receipt was read by the id a delivery or the list answered
    assert ("GET /sources/{source}/receipts/{receipt_id}", 200) in answered, sorted(set(answered))
