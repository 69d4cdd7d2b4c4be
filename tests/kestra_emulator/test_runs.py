from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.kestra_emulator.conftest import YAML, client_for
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.runs import Outcome
from tests.kestra_emulator.server import KestraEmulator

FLOW = """\
id: three
namespace: zoomcamp
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: branch
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: second
        type: io.kestra.plugin.core.log.Log
        message: two
"""


@pytest.fixture(params=["1.1.0", "0.20.7"], ids=["kestra-1.x", "kestra-0.20"])
def manual(request) -> Iterator[tuple[KestraEmulator, httpx.Client]]:
    """An emulator whose executions move only when the test says so, with the flow `three` saved."""
    prefix = "/api/v1/main" if request.param.startswith("1.") else "/api/v1"
    with KestraEmulator(version=request.param, execution_mode="manual") as emulator, \
            client_for(emulator, prefix) as client:
        assert client.post("/flows", content=FLOW, headers=YAML).status_code == 200
        yield emulator, client
    assert_no_spec_violations(emulator)


def _run(client: httpx.Client) -> str:
    response = client.post("/executions/zoomcamp/three")
    assert response.status_code == 200
    return response.json()["id"]


def _task_states(client: httpx.Client, execution_id: str) -> tuple[str, list[tuple[str, str]]]:
    document = client.get(f"/executions/{execution_id}").json()
    return document["state"]["current"], [(run["taskId"], run["state"]["current"]) for run in document.get("taskRunList", [])]


def test_an_execution_runs_its_tasks_in_order_one_step_at_a_time(manual) -> None:
    emulator, client = manual
    execution_id = _run(client)
    assert _task_states(client, execution_id) == ("CREATED", [])
    seen = []
    for _ in range(4):
        emulator.advance_executions()
        seen.append(_task_states(client, execution_id))
    assert seen == [
        ("RUNNING", [("first", "RUNNING")]),
        ("RUNNING", [("first", "SUCCESS"), ("branch", "RUNNING")]),
        ("RUNNING", [("first", "SUCCESS"), ("branch", "RUNNING"), ("second", "RUNNING")]),
        ("SUCCESS", [("first", "SUCCESS"), ("branch", "SUCCESS"), ("second", "SUCCESS")]),
    ]
    emulator.advance_executions(3)
    assert _task_states(client, execution_id)[0] == "SUCCESS"


def test_a_failing_task_ends_the_execution_and_logs_its_errors(manual) -> None:
    emulator, client = manual
    emulator.set_outcome("three", Outcome("FAILED", task="branch", errors=("connection refused", "giving up")))
    execution_id = _run(client)
    emulator.advance_executions(10)
    assert _task_states(client, execution_id) == ("FAILED", [("first", "SUCCESS"), ("branch", "FAILED")])
    errors = client.get(f"/logs/{execution_id}", params={"minLevel": "ERROR"}).json()
    assert [(entry["taskId"], entry["message"]) for entry in errors] == [("branch", "connection refused"),
                                                                         ("branch", "giving up")]
    everything = client.get(f"/logs/{execution_id}").json()
    assert [entry["level"] for entry in everything] == ["INFO", "ERROR", "ERROR"]


def test_a_hanging_task_never_ends_and_a_warning_ends_as_warning(manual) -> None:
    emulator, client = manual
    emulator.set_outcome("three", Outcome("RUNNING", task="first"))
    hanging = _run(client)
    emulator.set_outcome("three", lambda execution: Outcome("WARNING", errors=("row count low",)))
    warned = _run(client)
    emulator.advance_executions(20)
    assert _task_states(client, hanging) == ("RUNNING", [("first", "RUNNING")])
    assert _task_states(client, warned)[0] == "WARNING"
    assert [entry["level"] for entry in client.get(f"/logs/{warned}", params={"minLevel": "WARN"}).json()] == ["WARN"]


def test_per_request_mode_moves_executions_on_with_every_request() -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        client.post("/flows", content=FLOW, headers=YAML)
        execution_id = _run(client)
        states = [client.get(f"/executions/{execution_id}").json()["state"]["current"] for _ in range(5)]
    assert states == ["RUNNING", "RUNNING", "RUNNING", "SUCCESS", "SUCCESS"]
    assert_no_spec_violations(emulator)


def test_an_unknown_execution_is_404_and_system_labels_are_refused(api: httpx.Client) -> None:
    assert api.get("/executions/nope").status_code == 404
    api.post("/flows", content=FLOW, headers=YAML)
    refused = api.post("/executions/zoomcamp/three", params={"labels": "system.readOnly:true"})
    assert refused.status_code == 422 and "System labels" in refused.json()["message"]
    assert api.post("/executions/zoomcamp/three", params={"labels": "system.correlationId:abc"}).status_code == 200


def test_an_outcome_with_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="state"):
        Outcome("DONE")
