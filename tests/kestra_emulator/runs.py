"""Executions that run: task runs, states and logs, advanced one step at a time, deterministically.

An execution's tasks are its flow's tasks in order (nested `tasks` and `then` lists flattened). Each step
(`tick`) moves one execution on: CREATED -> RUNNING with the first task run, then finishes the current
task run and starts the next, until the last one ends and the execution with it. How it ends is the
flow's `Outcome` (set by a test; SUCCESS by default): a task that fails, warns, is killed or never ends
(a timeout for the client). Each task run logs one INFO line; a failing one logs its error lines at
ERROR (WARN for a warning), the way Kestra stores a task's logs (LogEntry, `GET /logs/{executionId}`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.state import EmulatorState, iso, new_id, now

ENDINGS = ("SUCCESS", "FAILED", "WARNING", "KILLED", "RUNNING")  # RUNNING: never ends
TERMINAL = frozenset({"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"})
LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE")  # most severe first, as Kestra's Level enum


@dataclass(frozen=True)
class Outcome:
    state: str = "SUCCESS"
    task: str | None = None  # the task that fails, warns, is killed or hangs; default: the last one
    errors: tuple[str, ...] = ("Task failed",)  # its log lines (ERROR, or WARN for a warning)

    def __post_init__(self) -> None:
        if self.state not in ENDINGS:
            raise ValueError(f"an outcome's state is one of {ENDINGS}, got {self.state!r}")


OutcomeRule = Outcome | Callable[[dict[str, Any]], Outcome]


@dataclass
class RunPlan:
    tasks: list[str]
    outcome: Outcome


def flow_task_ids(tasks: Any) -> list[str]:
    ids: list[str] = []
    for task in tasks or []:
        if isinstance(task, dict) and task.get("id"):
            ids.append(str(task["id"]))
            ids.extend(flow_task_ids(task.get("tasks")) + flow_task_ids(task.get("then")))
    return ids


def plan_run(state: EmulatorState, execution: dict[str, Any], document: dict[str, Any]) -> None:
    rule = state.outcomes.get(execution["flowId"], Outcome())
    outcome = rule(execution) if callable(rule) else rule
    tasks = flow_task_ids(document.get("tasks")) or ["(none)"]
    if outcome.task is not None and outcome.task not in tasks:
        raise ValueError(f"outcome task {outcome.task!r} is not a task of flow {execution['flowId']}")
    state.run_plans[execution["id"]] = RunPlan(tasks, outcome)


def _set_state(holder: dict[str, Any], current: str) -> None:
    moment = iso(now())
    holder["state"]["current"] = current
    holder["state"]["histories"].append({"state": current, "date": moment})
    if current in TERMINAL:
        holder["state"]["endDate"] = moment


def _new_state(current: str) -> dict[str, Any]:
    moment = iso(now())
    return {"current": current, "startDate": moment, "histories": [{"state": current, "date": moment}]}


def _log(state: EmulatorState, execution: dict[str, Any], task_run: dict[str, Any], level: str, message: str) -> None:
    state.logs.append({
        "namespace": execution["namespace"], "flowId": execution["flowId"], "executionId": execution["id"],
        "taskId": task_run["taskId"], "taskRunId": task_run["id"], "attemptNumber": 0, "timestamp": iso(now()),
        "level": level, "thread": "worker", "message": message, "deleted": False,
    })


def _start_task(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    task_run = {"id": new_id(), "executionId": execution["id"], "namespace": execution["namespace"],
                "flowId": execution["flowId"], "taskId": task_id, "state": _new_state("RUNNING"),
                "attempts": [{"state": _new_state("RUNNING")}]}
    execution.setdefault("taskRunList", []).append(task_run)
    return task_run


def _end_task(task_run: dict[str, Any], current: str) -> None:
    _set_state(task_run, current)
    _set_state(task_run["attempts"][-1], current)


def step(state: EmulatorState, execution: dict[str, Any]) -> None:
    """Move one execution on by one step (nothing happens to a finished one or one without a plan)."""
    plan = state.run_plans.get(execution["id"])
    if plan is None or execution["state"]["current"] in TERMINAL:
        return
    if execution["state"]["current"] == "CREATED":
        _set_state(execution, "RUNNING")
        _start_task(execution, plan.tasks[0])
        return
    task_run = execution["taskRunList"][-1]
    outcome = plan.outcome
    position = len(execution["taskRunList"]) - 1
    decisive = outcome.state != "SUCCESS" and task_run["taskId"] == (outcome.task or plan.tasks[-1])
    if decisive and outcome.state == "RUNNING":
        return
    if decisive:
        level = "WARN" if outcome.state == "WARNING" else "ERROR"
        for line in outcome.errors:
            _log(state, execution, task_run, level, line)
        _end_task(task_run, outcome.state)
        _set_state(execution, outcome.state)
        return
    _log(state, execution, task_run, "INFO", f"{task_run['taskId']} done")
    _end_task(task_run, "SUCCESS")
    if position + 1 < len(plan.tasks):
        _start_task(execution, plan.tasks[position + 1])
    else:
        _set_state(execution, "SUCCESS")


def tick(state: EmulatorState, steps: int = 1) -> None:
    for _ in range(steps):
        for execution in state.executions:
            step(state, execution)


def get_execution(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    execution = next((e for e in state.executions if e["id"] == request.path_params["executionId"]), None)
    if execution is None:
        raise ApiError(404, empty_body=True)  # the controller returns null: Micronaut answers 404
    return ApiResponse.json(200, execution)


def execution_logs(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    minimum = request.arg("minLevel") or "TRACE"
    if minimum not in LEVELS:
        raise ApiError(400, f"Invalid minLevel {minimum!r}")
    allowed = set(LEVELS[: LEVELS.index(minimum) + 1])
    task_id = request.arg("taskId")
    entries = [entry for entry in state.logs if entry["executionId"] == request.path_params["executionId"]
               and entry["level"] in allowed and (task_id is None or entry["taskId"] == task_id)]
    return ApiResponse.json(200, entries)


ROUTES = (
    Route("GET", "/api/v1/{tenant}/executions/{executionId}", get_execution),
    Route("GET", "/api/v1/{tenant}/logs/{executionId}", execution_logs),
)
