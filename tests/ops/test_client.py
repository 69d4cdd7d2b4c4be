"""The Kestra client against scripted transports: paths per version, auth, retries only where safe,
typed errors with Kestra's message, and no password in any error."""

from __future__ import annotations

import base64
import random

import httpx
import pytest

from kestra_ops.client import KestraClient, api_prefix_for
from kestra_ops.errors import KestraAuthError, KestraConnectionError, KestraError, KestraHTTPError
from kestra_ops.outputs import Connection
from kestra_ops.retry import RetryPolicy, parse_retry_after

PASSWORD = "S3cretPassw0rdXYZ"
CONNECTION = Connection("http://kestra.test:8080", "ops@example.com", PASSWORD)


class Script:
    """A transport answering from a list of handlers, one per request, recording what it saw."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        return answer(request) if callable(answer) else answer


def client_for(script: Script, attempts: int = 4, version: str | None = "1.1.0") -> tuple[KestraClient, list[float]]:
    sleeps: list[float] = []
    if version is not None:
        script.answers.insert(0, httpx.Response(200, json={"version": version}))
    client = KestraClient(
        CONNECTION,
        retry=RetryPolicy(attempts=attempts, backoff_s=0.1, max_delay_s=5.0),
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        rng=random.Random(7),
    )
    return client, sleeps


def lost(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize(
    ("version", "prefix"),
    [("0.20.7", "/api/v1"), ("0.22.4", "/api/v1"), ("0.23.0", "/api/v1/main"), ("1.1.3", "/api/v1/main"), ("v1.0.0-SNAPSHOT", "/api/v1/main")],
)
def test_version_picks_the_tenant_prefix(version: str, prefix: str) -> None:
    assert api_prefix_for(version) == prefix


def test_versions_before_0_20_are_refused() -> None:
    with pytest.raises(KestraError, match="0.19.3 is not supported"):
        api_prefix_for("0.19.3")


def test_requests_carry_basic_auth_and_the_detected_prefix() -> None:
    script = Script(httpx.Response(200, json={"results": [], "total": 0}))
    client, _ = client_for(script, version="0.20.7")
    client.get("/flows/search", params={"page": 1, "size": 1})
    configs, search = script.requests
    assert configs.url.path == "/api/v1/configs"
    assert search.url.path == "/api/v1/flows/search"
    expected = "Basic " + base64.b64encode(f"ops@example.com:{PASSWORD}".encode()).decode()
    assert search.headers["authorization"] == expected


def test_get_retries_503_and_honours_retry_after() -> None:
    script = Script(httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={"ok": True}))
    client, sleeps = client_for(script)
    assert client.get_json("/flows/search") == {"ok": True}
    assert sleeps == [2.0]
    assert client.stats.retries == 1


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    script = Script(*[httpx.Response(502)] * 4)
    client, sleeps = client_for(script, attempts=4)
    with pytest.raises(KestraHTTPError) as raised:
        client.get("/flows/search")
    assert raised.value.status == 502 and len(sleeps) == 3
    assert all(0.05 <= delay <= 5.0 for delay in sleeps)


def test_connection_errors_are_retried_then_reported_plainly() -> None:
    script = Script(*[refused] * 3)
    client, _ = client_for(script, attempts=3, version=None)
    with pytest.raises(KestraConnectionError) as raised:
        client.get("/api/v1/configs", raw=True)
    assert str(raised.value) == "cannot reach Kestra: GET http://kestra.test:8080/api/v1/configs: connection refused"


def test_a_write_with_a_lost_answer_is_not_repeated_blindly() -> None:
    script = Script(lost)
    client, _ = client_for(script)
    with pytest.raises(KestraConnectionError):
        client.write("PUT", "/triggers", json={"x": 1})
    assert len(script.requests) == 2  # configs + the one write, never a second write


def test_a_write_with_a_lost_answer_is_checked_before_retrying() -> None:
    script = Script(lost)
    client, _ = client_for(script)
    checks: list[bool] = []
    result = client.write("PUT", "/triggers", json={"x": 1}, applied=lambda: checks.append(True) or True)
    assert result is None and checks == [True]
    assert [r.method for r in script.requests] == ["GET", "PUT"]


def test_a_write_that_did_not_land_is_retried_after_the_check() -> None:
    script = Script(httpx.Response(503), httpx.Response(200, json={}))
    client, _ = client_for(script)
    response = client.write("PUT", "/triggers", json={}, applied=lambda: False)
    assert response is not None and response.status_code == 200
    assert [r.method for r in script.requests] == ["GET", "PUT", "PUT"]


def test_a_write_refused_before_sending_is_retried_without_a_check() -> None:
    script = Script(refused, httpx.Response(429), httpx.Response(200, json={}))
    client, _ = client_for(script)
    client.write("PUT", "/triggers", json={}, applied=lambda: pytest.fail("not needed: nothing was sent"))
    assert [r.method for r in script.requests] == ["GET", "PUT", "PUT", "PUT"]


def test_retry_safe_writes_are_simply_repeated() -> None:
    script = Script(lost, httpx.Response(200, json=[]))
    client, _ = client_for(script)
    client.write("POST", "/flows/zoomcamp", params={"delete": "false"}, content=b"id: x", retry_safe=True)
    assert [r.url.path for r in script.requests[1:]] == ["/api/v1/main/flows/zoomcamp"] * 2


def test_http_errors_carry_method_url_status_and_kestras_messages() -> None:
    body = {
        "message": "Invalid entity: flow.id: Flow id already exists",
        "_embedded": {"errors": [{"path": "flow.id", "message": "Flow id already exists"}, {"path": "tasks", "message": "must not be empty"}]},
    }
    script = Script(httpx.Response(422, json=body))
    client, _ = client_for(script)
    with pytest.raises(KestraHTTPError) as raised:
        client.write("POST", "/flows", content=b"id: x")
    error = raised.value
    assert (error.method, error.status) == ("POST", 422)
    assert error.url == "http://kestra.test:8080/api/v1/main/flows"
    assert error.details == (("flow.id", "Flow id already exists"), ("tasks", "must not be empty"))
    assert str(error) == (
        "POST http://kestra.test:8080/api/v1/main/flows -> HTTP 422: Invalid entity: flow.id: Flow id already exists "
        "(flow.id: Flow id already exists; tasks: must not be empty)"
    )


def test_401_says_wrong_username_or_password_without_the_password() -> None:
    script = Script(httpx.Response(401, headers={"WWW-Authenticate": "Basic"}))
    client, _ = client_for(script)
    with pytest.raises(KestraAuthError) as raised:
        client.get("/flows/search")
    assert str(raised.value).startswith("wrong username or password for Kestra")
    assert PASSWORD not in str(raised.value) and PASSWORD not in repr(raised.value)


def test_404_becomes_none_for_optional_reads() -> None:
    script = Script(httpx.Response(404), httpx.Response(410, json={"message": "expired"}))
    client, _ = client_for(script)
    assert client.get_or_none("/namespaces/zoomcamp/kv/A") is None
    assert client.get_or_none("/namespaces/zoomcamp/kv/B") is None


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:05 GMT", now) == 5.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None


def test_backoff_grows_with_jitter_and_respects_the_cap() -> None:
    policy = RetryPolicy(attempts=10, backoff_s=1.0, max_delay_s=8.0)
    rng = random.Random(1)
    delays = [policy.delay(n, None, rng) for n in range(1, 7)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0
    assert all(delay <= 8.0 for delay in delays)
    assert policy.delay(1, 60.0, rng) == 8.0  # Retry-After honoured up to the cap


def test_a_lost_answer_on_the_last_attempt_is_still_checked() -> None:
    script = Script(lost)
    client, _ = client_for(script, attempts=1)
    assert client.write("PUT", "/triggers", json={}, applied=lambda: True) is None
