"""Flow sync details against scripted transports: a create whose answer was lost, server validation
mapped back to files, and the plan's comparison of sources."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from kestra_ops.client import KestraClient
from kestra_ops.errors import ValidationFailed
from kestra_ops.flows_sync import _write_one, plan_flows, validate_on_server
from kestra_ops.outputs import Connection
from kestra_ops.changes import same_text
from kestra_ops.retry import RetryPolicy
from kestra_ops.validation import LocalFlow
from tests.ops.conftest import DASHES_FLOW, HELLO_FLOW

DASHES = LocalFlow(Path("flows/zoomcamp/with_dashes.yaml"), "zoomcamp", "with_dashes", DASHES_FLOW)
HELLO = LocalFlow(Path("flows/zoomcamp/hello.yaml"), "zoomcamp", "hello", HELLO_FLOW)


def client_with(handler) -> tuple[KestraClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/configs":
            return httpx.Response(200, json={"version": "1.1.0"})
        return handler(request, len([r for r in seen if r.url.path != "/api/v1/configs"]))

    client = KestraClient(Connection("http://k.test", "a@b.c", "Passw0rdX"), retry=RetryPolicy(attempts=3, backoff_s=0.0),
                          transport=httpx.MockTransport(record), sleep=lambda s: None, rng=random.Random(0))
    return client, seen


@pytest.mark.parametrize(("stored", "writes_again"), [(DASHES_FLOW, False), (DASHES_FLOW.replace("SELECT 1", "SELECT 2"), True)])
def test_create_retried_after_a_lost_answer_compares_instead_of_failing(stored: str, writes_again: bool) -> None:
    def kestra(request: httpx.Request, count: int) -> httpx.Response:
        if count == 1:  # the create landed, its answer did not
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if request.method == "POST":
            return httpx.Response(422, json={"message": "Invalid entity: flow.id: Flow id already exists"})
        if request.method == "GET":
            return httpx.Response(200, json={"id": "with_dashes", "namespace": "zoomcamp", "source": stored})
        return httpx.Response(200, json={})

    client, seen = client_with(kestra)
    _write_one(client, DASHES, "create")
    calls = [(r.method, r.url.path) for r in seen[1:]]
    expected = [("POST", "/api/v1/main/flows"), ("POST", "/api/v1/main/flows"), ("GET", "/api/v1/main/flows/zoomcamp/with_dashes")]
    if writes_again:
        expected.append(("PUT", "/api/v1/main/flows/zoomcamp/with_dashes"))
    assert calls == expected


def test_server_validation_maps_each_result_back_to_its_file() -> None:
    def kestra(request: httpx.Request, count: int) -> httpx.Response:
        body = request.content.decode()
        if "with_dashes" in body:  # sent alone: the validate endpoint splits on `---` lines too
            assert "hello" not in body
            return httpx.Response(200, json=[{"index": 0, "constraints": "tasks[0].type: must be\n a plugin type"}])
        return httpx.Response(200, json=[{"index": 0, "warnings": ["io.kestra.x is deprecated"]}])

    client, _ = client_with(kestra)
    with pytest.raises(ValidationFailed) as raised:
        validate_on_server(client, [HELLO, DASHES])
    assert raised.value.problems == ("flows/zoomcamp/with_dashes.yaml: rejected by Kestra: tasks[0].type: must be a plugin type",)


def test_plan_compares_sources_up_to_trailing_whitespace() -> None:
    server = {"zoomcamp": {"hello": HELLO_FLOW.strip() + "  \n\n", "gone": "id: gone"}}
    changes = plan_flows([HELLO, DASHES], server, prune=True)
    assert [(c.name, c.action) for c in changes] == [("hello", "unchanged"), ("with_dashes", "create"), ("gone", "delete")]
    assert not same_text("a: 1\nb: 2", "a: 1\nb: 3")


@pytest.mark.parametrize(
    ("source", "identity"),
    [
        ("id: a\nnamespace: 'zoomcamp'  # comment\ntasks:\n  - id: inner\n", ("a", "zoomcamp")),
        ("namespace: zoomcamp\ndescription: |\n  id: not_this\nid: real\n", ("real", "zoomcamp")),
        ("{id: flow_style, namespace: zoomcamp, tasks: []}", ("flow_style", "zoomcamp")),
        ("- not a flow\n", (None, None)),
    ],
)
def test_exported_sources_are_identified_by_their_top_level_id_and_namespace(source: str, identity: tuple) -> None:
    from kestra_ops.flows_sync import _identity

    assert _identity(source) == identity
