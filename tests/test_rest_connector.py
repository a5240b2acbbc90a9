"""The REST connector: paging and state, retry policy, error mapping, secrecy, push, check, mapping.

The network is mocked with ``responses``; ``sleep`` is a list's append, so retries take no time
and the requested waits can be asserted. All values are synthetic.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
import logging
import random
import traceback
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from pydantic import SecretStr
from responses import matchers

from kim_hub.connectors.column_map import provider_csv_column_map
from kim_hub.connectors.rest import HealthResult, PushResult, RestConfig, RestConnector
from kim_hub.connectors.rest_http import retry_after_seconds
from kim_hub.core.errors import BadInputError, ConfigError, HubError, TransientError
from kim_hub.core.rows import RawRow
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.provider_csv import map_provider_row
from tests.support import ROOT

BASE = "https://provider.example/kim/v1"
CASES = f"{BASE}/cases"
TOKEN = "tok-7f3a9c-SECRET-do-not-leak"


def make_connector(sleeps: list[float] | None = None, **overrides: Any) -> RestConnector:
    settings: dict[str, Any] = {"base_url": BASE, "token": TOKEN, "page_size": 2, "max_retries": 3}
    settings.update(overrides)
    sink = sleeps if sleeps is not None else []
    return RestConnector(RestConfig(**settings), sleep=sink.append, rng=random.Random(7))


def record(record_id: str, updated_at: str = "2026-03-01T10:00:00+01:00", **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "record_id": record_id,
        "family_name": "Haddad",
        "given_names": "Rania",
        "birth_date": "1990-05-17",
        "updated_at": updated_at,
    }
    item.update(fields)
    return item


def page(items: list[Any], next_cursor: str | None = None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def query(**params: str) -> Any:
    return matchers.query_param_matcher(params)


# --- paging and state --------------------------------------------------------------------------


@responses.activate
def test_three_pages_and_state_round_trip() -> None:
    responses.get(CASES, match=[query(page_size="2")], json=page([record("A1", "2026-03-01T10:00:00+01:00"), record("A2")], "c2"))
    newest = "2026-03-02T09:30:00+01:00"
    responses.get(CASES, match=[query(page_size="2", cursor="c2")], json=page([record("A3", newest), record("A4")], "c3"))
    responses.get(CASES, match=[query(page_size="2", cursor="c3")], json=page([record("A5", "2026-03-02T08:00:00Z")]))
    connector = make_connector()

    result = connector.pull({})

    batch = result.batch
    assert [row.fields["record_id"] for row in batch.rows] == ["A1", "A2", "A3", "A4", "A5"]
    assert [row.row_number for row in batch.rows] == [1, 2, 3, 4, 5]
    assert {row.file for row in batch.rows} == {"api:provider.example"}
    assert batch.path == Path("rest://provider.example/cases")
    assert not batch.rejections and not batch.rejected_whole
    # 08:00Z = 09:00+01:00 is earlier than 09:30+01:00: the newest instant wins, in the provider's spelling
    assert result.state == {"updated_since": newest}

    responses.get(CASES, match=[query(page_size="2", updated_since=newest)], json=page([]))
    again = connector.pull(result.state)
    assert again.batch.rows == []
    assert again.state == result.state  # nothing new: the cursor stays put


@responses.activate
def test_incremental_pull_sends_updated_since_on_the_first_page_only() -> None:
    since = "2026-03-01T08:00:00+01:00"
    responses.get(CASES, match=[query(page_size="2", updated_since=since)], json=page([record("B1")], "next"))
    responses.get(CASES, match=[query(page_size="2", cursor="next")], json=page([record("B2", "2026-03-05T12:00:00+01:00")]))

    result = make_connector().pull({"updated_since": since, "other": "kept"})

    assert len(result.batch.rows) == 2
    assert result.state == {"updated_since": "2026-03-05T12:00:00+01:00", "other": "kept"}


@responses.activate
def test_content_hash_depends_on_items_not_on_page_split() -> None:
    items = [record("C1"), record("C2"), record("C3")]
    responses.get(CASES, match=[query(page_size="2")], json=page(items[:2], "p2"))
    responses.get(CASES, match=[query(page_size="2", cursor="p2")], json=page(items[2:]))
    responses.get(CASES, match=[query(page_size="5")], json=page(items))

    split = make_connector().pull({}).batch.content_hash
    whole = make_connector(page_size=5).pull({}).batch.content_hash
    assert split == whole and len(split) == 64


@responses.activate
def test_repeated_cursor_stops_paging() -> None:
    responses.get(CASES, match=[query(page_size="2")], json=page([record("D1")], "same"))
    responses.get(CASES, match=[query(page_size="2", cursor="same")], json=page([record("D2")], "same"))
    with pytest.raises(BadInputError, match="same cursor twice"):
        make_connector().pull({})


@pytest.mark.parametrize("body", [[], {"records": []}, {"items": {}}, {"items": [], "next_cursor": 5}])
@responses.activate
def test_malformed_page_is_bad_input(body: Any) -> None:
    responses.get(CASES, json=body)
    with pytest.raises(BadInputError):
        make_connector().pull({})


@responses.activate
def test_non_json_page_is_bad_input() -> None:
    responses.get(CASES, body="<html>proxy login</html>", content_type="text/html")
    with pytest.raises(BadInputError, match="not JSON"):
        make_connector().pull({})


# --- retries -----------------------------------------------------------------------------------


@responses.activate
def test_429_honours_retry_after_seconds() -> None:
    responses.get(CASES, status=429, headers={"Retry-After": "7"})
    responses.get(CASES, status=429, headers={"Retry-After": "3600"})  # capped at max_backoff_seconds
    responses.get(CASES, json=page([record("E1")]))
    sleeps: list[float] = []

    result = make_connector(sleeps, max_backoff_seconds=60).pull({})

    assert sleeps == [7.0, 60.0]
    assert len(result.batch.rows) == 1


@responses.activate
def test_429_honours_retry_after_http_date() -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    responses.get(CASES, status=429, headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)})
    responses.get(CASES, json=page([]))
    sleeps: list[float] = []

    make_connector(sleeps).pull({})

    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 30


def test_retry_after_parsing() -> None:
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Sun, 01 Mar 2026 12:00:10 GMT", now) == 10
    assert retry_after_seconds("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0  # in the past: go now
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("-5", now) is None
    assert retry_after_seconds(None, now) is None


@responses.activate
def test_503_twice_then_success_backs_off_exponentially_with_jitter() -> None:
    responses.get(CASES, status=503)
    responses.get(CASES, status=503)
    responses.get(CASES, json=page([record("F1")]))
    sleeps: list[float] = []

    result = make_connector(sleeps, backoff_seconds=1.0).pull({})

    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # equal jitter: half to all of 1 s, 2 s
    assert [row.fields["record_id"] for row in result.batch.rows] == ["F1"]


@responses.activate
def test_backoff_is_capped() -> None:
    for _ in range(4):
        responses.get(CASES, status=502)
    responses.get(CASES, json=page([]))
    sleeps: list[float] = []

    make_connector(sleeps, max_retries=4, backoff_seconds=10, max_backoff_seconds=15).pull({})

    assert len(sleeps) == 4 and all(s <= 15 for s in sleeps)


@responses.activate
def test_retries_exhausted_raise_transient_and_keep_state() -> None:
    state = {"updated_since": "2026-03-01T08:00:00+01:00"}
    responses.get(CASES, match=[query(page_size="2", updated_since=state["updated_since"])], json=page([record("G1")], "p2"))
    responses.get(CASES, match=[query(page_size="2", cursor="p2")], status=504)
    sleeps: list[float] = []

    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        make_connector(sleeps, max_retries=2).pull(state)

    assert state == {"updated_since": "2026-03-01T08:00:00+01:00"}
    assert len(responses.calls) == 1 + 3 and len(sleeps) == 2


@pytest.mark.parametrize("failure", [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError("refused")])
@responses.activate
def test_timeouts_and_connection_errors_are_retried(failure: Exception) -> None:
    responses.get(CASES, body=failure)
    responses.get(CASES, json=page([record("H1")]))
    sleeps: list[float] = []

    result = make_connector(sleeps).pull({})

    assert len(sleeps) == 1 and len(result.batch.rows) == 1


@responses.activate
def test_connection_errors_exhausted_are_transient() -> None:
    responses.get(CASES, body=requests.ConnectionError("refused"))
    with pytest.raises(TransientError, match="connection failed"):
        make_connector(max_retries=1).pull({})


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_rejected_token_is_config_error_without_retry(status: int) -> None:
    responses.get(CASES, status=status)
    sleeps: list[float] = []
    with pytest.raises(ConfigError, match="token rejected"):
        make_connector(sleeps).pull({})
    assert len(responses.calls) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("status", "error"), [(400, BadInputError), (422, BadInputError), (404, ConfigError), (500, BadInputError)]
)
@responses.activate
def test_other_statuses_are_final(status: int, error: type[HubError]) -> None:
    responses.get(CASES, status=status, json={"error": "Haddad, Rania: bad"})
    with pytest.raises(error) as caught:
        make_connector().pull({})
    assert len(responses.calls) == 1
    assert "Haddad" not in str(caught.value)  # the response body is never echoed


@responses.activate
def test_tls_failure_is_config_error() -> None:
    responses.get(CASES, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(ConfigError, match="TLS"):
        make_connector().pull({})


# --- secrecy -----------------------------------------------------------------------------------


@responses.activate
def test_token_never_in_errors_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = RestConfig(base_url=BASE, token=SecretStr(TOKEN))
    connector = make_connector(max_retries=1)
    texts = [repr(config), str(config), repr(connector), repr(connector._http), str(config.model_dump())]

    for failure in (
        {"status": 401},
        {"status": 400},
        {"status": 503},
        {"body": requests.ConnectionError(f"refused; Authorization: Bearer {TOKEN}")},
    ):
        responses.reset()
        responses.get(CASES, **failure)
        with pytest.raises(HubError) as caught:
            connector.pull({"updated_since": "2026-03-01T08:00:00+01:00"})
        texts += [str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value))]
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None or caught.value.__suppress_context__

    responses.reset()
    responses.get(f"{BASE}/health", body=requests.ConnectionError(f"Bearer {TOKEN}"))
    texts.append(connector.check().detail)
    texts += [record.getMessage() for record in caplog.records]

    assert texts and all(TOKEN not in text for text in texts)


@responses.activate
def test_token_is_sent_as_bearer_header() -> None:
    responses.get(CASES, json=page([]), match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})])
    make_connector().pull({})


def test_config_refuses_plain_http_except_localhost() -> None:
    with pytest.raises(ValueError, match="https"):
        RestConfig(base_url="http://provider.example/api", token=SecretStr(TOKEN))
    assert RestConfig(base_url="http://localhost:8080/api", token=SecretStr(TOKEN)).base_url.startswith("http://localhost")


def test_config_from_options_reads_token_from_environment() -> None:
    options = {"base_url": BASE, "token_env": "KIM_TEST_TOKEN", "page_size": "100"}
    config = RestConfig.from_options(options, environ={"KIM_TEST_TOKEN": TOKEN})
    assert config.token.get_secret_value() == TOKEN and config.page_size == 100

    with pytest.raises(ConfigError, match="do not put the token"):
        RestConfig.from_options({"base_url": BASE, "token": TOKEN}, environ={})
    with pytest.raises(ConfigError, match="KIM_TEST_TOKEN is not set"):
        RestConfig.from_options(options, environ={})
    with pytest.raises(ConfigError, match="page_size") as caught:
        RestConfig.from_options({**options, "page_size": "lots"}, environ={"KIM_TEST_TOKEN": TOKEN})
    assert "lots" not in str(caught.value) and TOKEN not in str(caught.value)


# --- rows --------------------------------------------------------------------------------------


@responses.activate
def test_bad_items_become_rejections_not_exceptions() -> None:
    items = [
        record("J1"),
        {"family_name": "Haddad", "given_names": "Rania"},
        "Haddad Rania",
        {"record_id": None, "family_name": "Haddad"},
        {"record_id": "   ", "family_name": "Haddad"},
        record("J6", goals=[["sprache", "active"]]),
        record("J7"),
    ]
    responses.get(CASES, json=page(items))

    batch = make_connector(page_size=10).pull({}).batch

    assert [row.fields["record_id"] for row in batch.rows] == ["J1", "J7"]
    assert [(r.row, r.field) for r in batch.rejections] == [
        (2, "record_id"),
        (3, None),
        (4, "record_id"),
        (5, "record_id"),
        (6, "goals"),
    ]
    for rejection in batch.rejections:
        assert "Haddad" not in rejection.describe() and "Rania" not in rejection.describe()


@responses.activate
def test_json_values_become_provider_csv_text() -> None:
    item = record(
        "K1",
        updated_at="2026-03-01T23:30:00+01:00",
        postcode=50667,
        azr_number=123456789012,
        street=None,
        consent_recipients=["kim", "caritas"],
        goals={"sprache": "active", "arbeit": "planned"},
        district=True,
        shoe_size=44,
    )
    responses.get(CASES, json=page([item]))

    batch = make_connector().pull({}).batch

    fields = batch.rows[0].fields
    assert fields["postcode"] == "50667" and fields["azr_number"] == "123456789012"
    assert fields["street"] == "" and fields["district"] == "true"
    assert fields["consent_recipients"] == "kim|caritas"
    assert fields["goals"] == "sprache:active|arbeit:planned"
    assert fields["updated_at"] == "2026-03-01"  # the provider's own date, not shifted to UTC
    assert "shoe_size" not in fields and batch.unknown_columns == ["shoe_size"]
    assert all(isinstance(value, str) for value in fields.values())


@responses.activate
def test_pulled_rows_map_to_case_summaries() -> None:
    items = [
        record(
            "M1",
            sex="F",
            nationality="SYR",
            postcode="50667",
            azr_number="123456789012",
            rechtskreis="SGB II",
            residence_status="GESTATTUNG",
            case_status="active",
            case_opened="2025-11-03",
            goals={"sprache": "active"},
            consent_recipients=["kim"],
            consent_valid_until="2027-01-31",
            consent_withdrawn=None,
        ),
        record("M2", birth_date="00.00.1988", sex="m", case_status="unknown-status"),
    ]
    responses.get(CASES, json=page(items))
    connector = make_connector()

    batch = connector.pull({}).batch
    mapped = [map_provider_row("caritas", row) for row in batch.rows]

    summary = mapped[0]
    assert isinstance(summary, CaseSummary)
    assert summary.case.source == "caritas" and summary.case.record_id == "M1"
    assert summary.identity.nationalities == ("SYR",) and summary.identity.sex == "F"
    assert summary.case.goals == {"sprache": "active"} and summary.case.consent.recipients == ("kim",)
    assert summary.case.updated_at == dt.date(2026, 3, 1)
    assert summary.identity.birth_date is not None and summary.identity.birth_date.day == 17
    assert isinstance(mapped[1], CaseSummary) and [n.field for n in mapped[1].notes] == ["case_status"]
    assert mapped[1].case.case_status is None
    assert connector.row_format == "provider-csv" and isinstance(batch.rows[0], RawRow)


# --- push --------------------------------------------------------------------------------------


@responses.activate
def test_push_sends_summaries_in_chunks() -> None:
    summaries = [{"case": {"source": "hub", "record_id": f"S{i}"}} for i in range(5)]
    posted: list[list[dict[str, Any]]] = []

    def accept(request: Any) -> tuple[int, dict[str, str], str]:
        chunk = json.loads(request.body)["summaries"]
        posted.append(chunk)
        return 200, {}, json.dumps({"accepted": len(chunk)})

    responses.add(responses.POST, f"{BASE}/summaries", status=503)
    responses.add_callback(responses.POST, f"{BASE}/summaries", callback=accept)
    sleeps: list[float] = []

    result = make_connector(sleeps).push(summaries)

    assert result == PushResult(accepted=5)
    assert [len(chunk) for chunk in posted] == [2, 2, 1]
    assert [s["case"]["record_id"] for chunk in posted for s in chunk] == [f"S{i}" for i in range(5)]
    assert len(sleeps) == 1  # the 503 was retried under the same policy
    assert all(call.request.headers["Authorization"] == f"Bearer {TOKEN}" for call in responses.calls)


@responses.activate
def test_push_nothing_sends_nothing_and_bad_answers_raise() -> None:
    assert make_connector().push([]) == PushResult(accepted=0)
    assert len(responses.calls) == 0
    with pytest.raises(BadInputError, match="not JSON-ready"):
        make_connector().push([{"when": dt.date(2026, 1, 1)}])
    responses.post(f"{BASE}/summaries", json={"ok": True})
    with pytest.raises(BadInputError, match="accepted"):
        make_connector().push([{"case": {}}])


# --- check -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"json": {"status": "ok"}}, HealthResult(True, "HTTP 200")),
        ({"status": 401}, HealthResult(False, "token rejected (HTTP 401)")),
        ({"status": 503}, HealthResult(False, "server error (HTTP 503)")),
        ({"body": requests.ConnectionError("refused")}, HealthResult(False, "connection failed (ConnectionError)")),
        ({"body": requests.ReadTimeout()}, HealthResult(False, "connection failed (ReadTimeout)")),
    ],
)
@responses.activate
def test_check_reports_without_raising(answer: dict[str, Any], expected: HealthResult) -> None:
    responses.get(f"{BASE}/health", **answer)
    sleeps: list[float] = []
    assert make_connector(sleeps).check() == expected
    assert sleeps == []  # a health check answers at once, without retries


def test_connector_contract() -> None:
    assert RestConnector.name == "rest" and RestConnector.row_format == "provider-csv"
    assert RestConnector.config_model is RestConfig


def test_openapi_case_record_has_exactly_the_provider_columns() -> None:
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load((ROOT / "docs" / "provider-api.openapi.yaml").read_text())
    documented = set(spec["components"]["schemas"]["CaseRecord"]["properties"])
    assert documented == set(provider_csv_column_map().canonical_columns)
    assert set(spec["paths"]) == {"/cases", "/summaries", "/health"}


# --- hardening (issue 19, item 7): redirects, environment, bounds, text that is not Unicode ----------------------

CANARY = "Zyxwvutsrq"  # a made-up name: it must appear in no error message, reason or log line
ELSEWHERE = "https://elsewhere.example/collect"


@responses.activate
def test_a_redirect_on_push_is_refused_and_the_summaries_are_not_sent_elsewhere() -> None:
    responses.post(f"{BASE}/summaries", status=307, headers={"Location": f"{ELSEWHERE}?name={CANARY}"})
    responses.post(ELSEWHERE, json={"accepted": 1})

    with pytest.raises(ConfigError, match="HTTP 307") as caught:
        make_connector().push([{"case": {"record_id": "R1"}, "name": CANARY}])

    assert len(responses.calls) == 1 and responses.calls[0].request.url == f"{BASE}/summaries"
    assert CANARY not in str(caught.value) and "elsewhere" not in str(caught.value)


@responses.activate
def test_a_redirect_on_pull_is_refused_without_following_it() -> None:
    responses.get(CASES, status=302, headers={"Location": f"{ELSEWHERE}?name={CANARY}"})
    responses.get(ELSEWHERE, json=page([record("X1", family_name=CANARY)]))
    sleeps: list[float] = []

    with pytest.raises(ConfigError, match="HTTP 302") as caught:
        make_connector(sleeps).pull({})

    assert len(responses.calls) == 1 and responses.calls[0].request.url.startswith(CASES)
    assert sleeps == []  # final, not retried
    assert CANARY not in str(caught.value) and "elsewhere" not in str(caught.value)


@responses.activate
def test_a_redirect_on_the_health_check_is_reported_not_followed() -> None:
    responses.get(f"{BASE}/health", status=301, headers={"Location": ELSEWHERE})
    responses.get(ELSEWHERE, json={"status": "ok"})

    result = make_connector().check()

    assert result == HealthResult(False, "redirected (HTTP 301); redirects are not followed")
    assert len(responses.calls) == 1


@responses.activate
def test_the_environment_decides_neither_proxy_nor_credentials_nor_certificates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine provider.example login eve password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for variable in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(variable, "http://proxy.attacker.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "attacker-ca.pem"))
    responses.get(CASES, json=page([]))
    connector = make_connector()

    connector.pull({})

    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"  # not replaced by the netrc login
    assert not any(sent.req_kwargs["proxies"].values())
    assert sent.req_kwargs["verify"] is True
    assert connector._http.session.trust_env is False


@responses.activate
def test_a_proxy_and_a_certificate_store_are_options_of_the_source(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    responses.get(CASES, json=page([]))
    options = {
        "base_url": BASE,
        "token_env": "KIM_TEST_TOKEN",
        "proxy": "http://proxy.city.example:3128",
        "ca_bundle": str(bundle),
    }

    RestConnector(RestConfig.from_options(options, environ={"KIM_TEST_TOKEN": TOKEN})).pull({})

    sent = responses.calls[0].request
    assert sent.req_kwargs["proxies"] == {"http": "http://proxy.city.example:3128", "https": "http://proxy.city.example:3128"}
    assert sent.req_kwargs["verify"] == str(bundle)
    with pytest.raises(ConfigError, match="proxy") as caught:
        RestConfig.from_options({**options, "proxy": f"http://{CANARY}:pw@proxy.example"}, environ={"KIM_TEST_TOKEN": TOKEN})
    assert CANARY not in str(caught.value)
    with pytest.raises(ConfigError, match="ca_bundle"):  # checked when the source is configured, not at the first request
        RestConfig.from_options({**options, "ca_bundle": str(tmp_path / "missing.pem")}, environ={"KIM_TEST_TOKEN": TOKEN})


@responses.activate
def test_more_pages_than_the_limit_refuse_the_pull() -> None:
    responses.get(CASES, match=[query(page_size="2")], json=page([record("P1")], "c2"))
    responses.get(CASES, match=[query(page_size="2", cursor="c2")], json=page([record("P2")], "c3"))
    responses.get(CASES, match=[query(page_size="2", cursor="c3")], json=page([record("P3")]))

    with pytest.raises(BadInputError, match="limit of 2 pages") as caught:
        make_connector(max_pages=2).pull({})

    assert "max_pages" in str(caught.value) and len(responses.calls) == 2  # the third page is never asked for
    assert make_connector(max_pages=3).pull({}).batch.rows  # within the limit: as before


@responses.activate
def test_more_items_than_the_limit_refuse_the_pull() -> None:
    responses.get(CASES, match=[query(page_size="2")], json=page([record("I1"), record("I2", family_name=CANARY)], "c2"))
    responses.get(CASES, match=[query(page_size="2", cursor="c2")], json=page([record("I3"), record("I4")]))

    with pytest.raises(BadInputError, match="limit of 3 items") as caught:
        make_connector(max_items=3).pull({})

    assert "max_items" in str(caught.value) and CANARY not in str(caught.value)


@responses.activate
def test_a_response_larger_than_the_limit_refuses_the_pull() -> None:
    responses.get(CASES, json=page([record(f"B{i}", family_name=CANARY) for i in range(50)]))

    with pytest.raises(BadInputError, match="limit of 1000 bytes") as caught:
        make_connector(max_response_bytes=1000).pull({})

    assert "max_response_bytes" in str(caught.value) and CANARY not in str(caught.value)


class _CountedBody(io.BytesIO):
    """A response body that counts the bytes read from it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


class _EndlessApi(requests.adapters.BaseAdapter):
    """Answers with a body far larger than any limit, and remembers how far it was read."""

    def __init__(self, size: int, status: int = 200, **headers: str) -> None:
        super().__init__()
        self.body = _CountedBody(b'{"items": [' + b" " * size + b"]}")
        self.status, self.headers = status, headers

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.request, response.url = self.status, request, request.url or ""
        response.headers.update({"Content-Type": "application/json", **self.headers})
        response.raw = self.body
        return response

    def close(self) -> None:
        """Nothing to release."""


def test_a_response_over_the_limit_is_not_read_to_its_end() -> None:
    api = _EndlessApi(size=20_000_000)
    session = requests.Session()
    session.mount(BASE, api)
    connector = RestConnector(RestConfig(base_url=BASE, token=SecretStr(TOKEN), max_response_bytes=100_000), session=session)

    with pytest.raises(BadInputError, match="max_response_bytes"):
        connector.pull({})

    assert api.body.taken < 1_000_000  # reading stopped just past the limit, not at 20 MB


def test_the_body_of_a_redirect_is_not_read_at_all() -> None:
    """requests reads a redirect's whole body even when it does not follow it (to offer ``next``)."""
    api = _EndlessApi(size=20_000_000, status=302, Location=f"{ELSEWHERE}?name={CANARY}")
    session = requests.Session()
    session.mount(BASE, api)
    connector = RestConnector(RestConfig(base_url=BASE, token=SecretStr(TOKEN), max_response_bytes=100_000), session=session)

    with pytest.raises(ConfigError, match="HTTP 302") as caught:
        connector.pull({})

    assert api.body.taken < 1_000_000 and CANARY not in str(caught.value)


@responses.activate
def test_text_that_is_not_unicode_costs_the_value_on_pull_never_the_pull() -> None:
    lone = "\ud800"  # JSON "\ud800": a lone surrogate, which no database and no UTF-8 file can hold
    items = [
        record("U1", family_name=CANARY + lone),
        record("U2", goals={"sprache" + lone: "active"}),
        record("U3" + lone, family_name=CANARY),
        record("U4", **{"remark" + lone: CANARY}),
    ]
    responses.get(CASES, body=json.dumps(page(items)), content_type="application/json")  # ASCII: "\ud800" escaped

    batch = make_connector(page_size=10).pull({}).batch

    assert [row.fields["record_id"] for row in batch.rows] == ["U1", "U2", "U4"]
    assert "family_name" not in batch.rows[0].fields and batch.rows[0].fields["given_names"] == "Rania"
    assert "goals" not in batch.rows[1].fields
    assert [(r.row, r.field) for r in batch.rejections] == [(3, "record_id")]  # a record id is the person: no id, no row
    stored = [batch.content_hash, *batch.unknown_columns, *(r.describe() for r in batch.rejections)]
    stored += [value for row in batch.rows for value in row.fields.values()]
    assert all(text.encode("utf-8") for text in stored)  # nothing that cannot be written as UTF-8
    assert all(CANARY not in r.describe() for r in batch.rejections)
    assert all(isinstance(map_provider_row("caritas", row), CaseSummary) for row in batch.rows)


@pytest.mark.parametrize("cursor", ["\ud800", ""])
@responses.activate
def test_a_cursor_that_is_not_unicode_is_bad_input(cursor: str) -> None:
    responses.get(CASES, body=json.dumps(page([record("V1")], cursor + "x")), content_type="application/json")
    responses.get(CASES, json=page([]))
    if cursor:
        with pytest.raises(BadInputError, match="next_cursor"):
            make_connector().pull({})
    else:
        assert len(make_connector().pull({}).batch.rows) == 1


@responses.activate
def test_a_summary_that_is_not_unicode_is_refused_alone_and_the_others_are_sent(caplog: pytest.LogCaptureFixture) -> None:
    summaries = [{"case": {"record_id": f"W{i}"}, "name": "Rania"} for i in range(4)]
    summaries[1]["name"] = CANARY + "\udc00"
    posted: list[str] = []

    def accept(request: Any) -> tuple[int, dict[str, str], str]:
        chunk = json.loads(request.body)["summaries"]
        posted.extend(s["case"]["record_id"] for s in chunk)
        return 200, {}, json.dumps({"accepted": len(chunk)})

    responses.add_callback(responses.POST, f"{BASE}/summaries", callback=accept)

    result = make_connector().push(summaries)

    assert result == PushResult(accepted=3, refused=(1,))
    assert posted == ["W0", "W2", "W3"]
    assert all(CANARY not in r.getMessage() for r in caplog.records)
