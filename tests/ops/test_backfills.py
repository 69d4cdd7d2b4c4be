"""Backfill decisions against scripted transports: wait for the trigger, skip what runs or ran, the body sent."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import httpx
import pytest

from kestra_ops.backfills import LABEL, backfill_id, seed_backfills
from kestra_ops.client import KestraClient
from kestra_ops.errors import OpsError
from kestra_ops.outputs import BackfillSpec, Connection
from kestra_ops.retry import RetryPolicy

SPEC = BackfillSpec(
    flow_id="taxi", trigger_id="green_schedule",
    start=datetime(2019, 1, 1, tzinfo=timezone.utc), end=datetime(2020, 1, 1, tzinfo=timezone.utc),
    inputs={"taxi": "green"}, labels=(("backfill", "green-2019"),),
)
TRIGGER = {"namespace": "zoomcamp", "flowId": "taxi", "triggerId": "green_schedule", "date": "2026-01-01T00:00:00Z", "tenantId": "main"}


def fake_kestra(triggers_answers: list[list[dict]], executions_total: int = 0):
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/api/v1/configs":
            return httpx.Response(200, json={"version": "1.1.0"})
        if path == "/api/v1/main/triggers/zoomcamp/taxi":
            results = triggers_answers.pop(0) if len(triggers_answers) > 1 else triggers_answers[0]
            return httpx.Response(200, json={"results": results, "total": len(results)})
        if path == "/api/v1/main/executions/search":
            return httpx.Response(200, json={"results": [], "total": executions_total})
        if path == "/api/v1/main/triggers" and request.method == "PUT":
            return httpx.Response(200, json=json.loads(request.content))
        return httpx.Response(404)

    sleeps: list[float] = []
    client = KestraClient(Connection("http://k.test", "a@b.c", "Passw0rdX"), retry=RetryPolicy(attempts=2),
                          transport=httpx.MockTransport(handle), sleep=sleeps.append, rng=random.Random(1))
    return client, seen, sleeps


def run(client: KestraClient, dry_run: bool = False, timeout: float = 5.0):
    return seed_backfills(client, "zoomcamp", (SPEC,), dry_run=dry_run, trigger_timeout_s=timeout, advance=lambda: None)


def test_waits_for_the_trigger_then_creates_the_backfill_with_its_label() -> None:
    client, seen, sleeps = fake_kestra([[], [], [TRIGGER]])
    [(state, action)] = run(client)
    assert action == "create" and len(sleeps) == 2
    put = next(r for r in seen if r.method == "PUT")
    body = json.loads(put.content)
    assert {k: body[k] for k in ("namespace", "flowId", "triggerId", "date", "tenantId")} == TRIGGER
    assert body["backfill"] == {
        "start": "2019-01-01T00:00:00Z", "end": "2020-01-01T00:00:00Z", "inputs": {"taxi": "green"},
        "labels": [{"key": "backfill", "value": "green-2019"}, {"key": LABEL, "value": state.backfill_id}],
    }


def test_the_label_is_stable_per_flow_trigger_and_window() -> None:
    assert backfill_id("zoomcamp", SPEC) == backfill_id("zoomcamp", SPEC)
    later = BackfillSpec(**{**SPEC.__dict__, "end": datetime(2020, 2, 1, tzinfo=timezone.utc)})
    assert backfill_id("zoomcamp", later) != backfill_id("zoomcamp", SPEC)


def test_a_trigger_that_never_appears_is_a_clear_error() -> None:
    client, _, _ = fake_kestra([[]])
    with pytest.raises(OpsError, match=r"kestra_backfills\[0\]: flow zoomcamp.taxi has no trigger 'green_schedule' on the server"):
        run(client, timeout=0.0)


def test_a_backfill_of_ours_still_running_is_skipped() -> None:
    ours = {"start": "2019-01-01T00:00:00Z", "labels": [{"key": LABEL, "value": backfill_id("zoomcamp", SPEC)}],
            "currentDate": "2019-03-01T09:00:01-05:00"}
    client, seen, _ = fake_kestra([[{**TRIGGER, "backfill": ours}]])
    [(state, action)] = run(client)
    assert (state.state, action, state.detail) == ("running", "skip", "at 2019-03-01T14:00:01Z")
    assert not any(r.method == "PUT" for r in seen)


def test_another_backfill_on_the_trigger_blocks_instead_of_being_replaced() -> None:
    theirs = {"start": "2018-01-01T00:00:00Z", "end": "2018-06-01T00:00:00Z", "labels": []}
    client, seen, _ = fake_kestra([[{**TRIGGER, "backfill": theirs}]])
    [(state, action)] = run(client)
    assert (state.state, action) == ("blocked", "skip") and "2018-01-01T00:00:00Z" in state.detail
    assert not any(r.method == "PUT" for r in seen)


def test_a_finished_backfill_is_found_by_its_executions_label() -> None:
    client, seen, _ = fake_kestra([[TRIGGER]], executions_total=12)
    [(state, action)] = run(client)
    assert (state.state, action, state.detail) == ("finished", "skip", "12 executions")
    search = next(r for r in seen if r.url.path.endswith("/executions/search"))
    assert search.url.params[f"filters[labels][EQUALS][{LABEL}]"] == backfill_id("zoomcamp", SPEC)


def test_dry_run_does_not_wait_for_a_missing_trigger_nor_write() -> None:
    client, seen, sleeps = fake_kestra([[]])
    [(state, action)] = run(client, dry_run=True)
    assert (state.state, action, sleeps) == ("missing", "create", [])
    assert all(r.method == "GET" for r in seen)
