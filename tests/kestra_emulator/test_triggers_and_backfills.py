from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.kestra_emulator.conftest import YAML, client_for
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.server import KestraEmulator

SCHEDULED = """id: taxi
namespace: zoomcamp
labels:
  team: data
inputs:
  - id: taxi
    type: SELECT
    values: [yellow, green]
    defaults: yellow
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.taxi }}"
triggers:
  - id: green_schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 1 * *"
    timezone: America/New_York
    inputs:
      taxi: green
  - id: yellow_schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 10 1 * *"
    timezone: America/New_York
    inputs:
      taxi: yellow
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
"""
WINDOW = {"start": "2019-01-01T00:00:00-05:00", "end": "2019-04-01T00:00:00-04:00"}


def _context(api: httpx.Client, trigger_id: str) -> dict[str, Any]:
    contexts = api.get("/triggers/zoomcamp/taxi").json()["results"]
    return next(context for context in contexts if context["triggerId"] == trigger_id)


def _put_backfill(api: httpx.Client, trigger_id: str = "green_schedule", **backfill: Any) -> httpx.Response:
    body = {**_context(api, trigger_id), "backfill": {**WINDOW, **backfill}}
    return api.put("/triggers", json=body)


@pytest.fixture
def scheduled(api: httpx.Client) -> httpx.Client:
    assert api.post("/flows", content=SCHEDULED, headers=YAML).status_code == 200
    return api


@pytest.fixture
def manual_emulator() -> Iterator[KestraEmulator]:
    with KestraEmulator(backfill_mode="manual") as emulator:
        yield emulator
    assert_no_spec_violations(emulator)


@pytest.fixture
def manual_api(manual_emulator: KestraEmulator) -> Iterator[httpx.Client]:
    with client_for(manual_emulator, "/api/v1/main") as client:
        assert client.post("/flows", content=SCHEDULED, headers=YAML).status_code == 200
        yield client


def test_each_schedule_trigger_gets_a_context(scheduled: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    assert kestra_emulator.triggers == {("zoomcamp", "taxi", "green_schedule"): None,
                                        ("zoomcamp", "taxi", "yellow_schedule"): None}
    found = scheduled.get("/triggers/search", params={"namespace": "zoomcamp", "flowId": "taxi"}).json()
    assert found["total"] == 2
    assert {row["abstractTrigger"]["cron"] for row in found["results"]} == {"0 9 1 * *", "0 10 1 * *"}


def test_a_backfill_runs_one_execution_per_cron_date_then_clears(scheduled: httpx.Client,
                                                                 kestra_emulator: KestraEmulator) -> None:
    response = _put_backfill(scheduled, inputs={"taxi": "green"}, labels=[{"key": "source", "value": "ops"}])
    assert response.status_code == 200
    assert response.json()["backfill"]["start"] == WINDOW["start"]
    runs = kestra_emulator.executions
    assert [run["scheduleDate"] for run in runs] == ["2019-01-01T09:00:00-05:00", "2019-02-01T09:00:00-05:00",
                                                     "2019-03-01T09:00:00-05:00"]
    assert {run["inputs"]["taxi"] for run in runs} == {"green"}
    first = runs[0]["labels"]
    assert (first["team"], first["source"], first["system.correlationId"]) == ("data", "ops", runs[0]["id"])
    assert kestra_emulator.triggers[("zoomcamp", "taxi", "green_schedule")] is None


def test_a_schedule_date_equal_to_the_end_is_played_too(scheduled: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    """Kestra drops a backfill once the next date is *after* its end (Trigger.checkBackfill, 0.20.7;
    TriggerState.getBackFillForNextEvaluationDate, 1.x: `isAfter(backfill.getEnd())`): the end is inclusive."""
    _put_backfill(scheduled, start="2019-01-01T09:00:00-05:00", end="2019-03-01T09:00:00-05:00")
    assert [run["scheduleDate"] for run in kestra_emulator.executions] == [
        "2019-01-01T09:00:00-05:00", "2019-02-01T09:00:00-05:00", "2019-03-01T09:00:00-05:00"]


def test_the_backfill_inputs_override_the_trigger_inputs(scheduled: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    _put_backfill(scheduled, "yellow_schedule")
    _put_backfill(scheduled, "yellow_schedule", inputs={"taxi": "green"})
    assert [run["inputs"]["taxi"] for run in kestra_emulator.executions] == ["yellow"] * 3 + ["green"] * 3


def test_a_second_backfill_replaces_a_running_one_and_replays_the_window(manual_api: httpx.Client,
                                                                          manual_emulator: KestraEmulator) -> None:
    _put_backfill(manual_api)
    assert manual_emulator.run_scheduler(limit=2) == 2
    running = _context(manual_api, "green_schedule")["backfill"]
    assert running["currentDate"] > WINDOW["start"]
    assert _put_backfill(manual_api).status_code == 200  # Kestra has no "already exists" check
    assert _context(manual_api, "green_schedule")["backfill"]["currentDate"] == WINDOW["start"]
    manual_emulator.run_scheduler()
    assert len(manual_emulator.executions) == 2 + 3


def test_pause_unpause_and_delete_need_the_tenant_id_on_1x(manual_api: httpx.Client,
                                                           manual_emulator: KestraEmulator) -> None:
    _put_backfill(manual_api)
    identity = {key: value for key, value in _context(manual_api, "green_schedule").items() if key != "tenantId"}
    assert manual_api.put("/triggers/backfill/pause", json=identity).status_code == 404
    paused = manual_api.put("/triggers/backfill/pause", json={**identity, "tenantId": "main"})
    assert paused.json()["backfill"]["paused"] is True
    assert manual_emulator.run_scheduler() == 0
    manual_api.put("/triggers/backfill/unpause", json={**identity, "tenantId": "main"})
    assert manual_api.post("/triggers/backfill/delete", json={**identity, "tenantId": "main"}).status_code == 200
    assert manual_emulator.triggers[("zoomcamp", "taxi", "green_schedule")] is None
    assert manual_api.post("/triggers/backfill/delete", json={**identity, "tenantId": "main"}).status_code == 400


def test_a_backfill_on_a_trigger_the_flow_lacks_is_404(scheduled: httpx.Client) -> None:
    body = {"namespace": "zoomcamp", "flowId": "taxi", "triggerId": "nope", "date": "2024-01-01T00:00:00Z",
            "backfill": WINDOW}
    assert scheduled.put("/triggers", json=body).status_code == 404


def test_updating_a_flow_keeps_its_trigger_contexts_and_deleting_it_drops_them(
        scheduled: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    scheduled.put("/flows/zoomcamp/taxi", content=SCHEDULED.replace("message:", "description: x\n    message:"),
                  headers=YAML)
    assert len(kestra_emulator.triggers) == 2
    scheduled.delete("/flows/zoomcamp/taxi")
    assert kestra_emulator.triggers == {}


def test_on_0_20_pause_finds_the_trigger_without_a_tenant_id_and_not_with_one() -> None:
    with KestraEmulator(version="0.20.7", backfill_mode="manual") as emulator, client_for(emulator, "/api/v1") as client:
        client.post("/flows", content=SCHEDULED, headers=YAML)
        _put_backfill(client)
        context = _context(client, "green_schedule")
        assert "tenantId" not in context
        assert client.put("/triggers/backfill/pause", json={**context, "tenantId": "main"}).status_code == 404
        assert client.put("/triggers/backfill/pause", json=context).json()["backfill"]["paused"] is True
    assert_no_spec_violations(emulator)


def test_put_without_a_backfill_toggles_disabled(scheduled: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    context = _context(scheduled, "green_schedule")
    writes = kestra_emulator.write_count
    assert scheduled.put("/triggers", json={**context, "disabled": True}).json()["disabled"] is True
    assert scheduled.put("/triggers", json={**context, "disabled": True}).status_code == 200
    assert kestra_emulator.write_count == writes + 1
