"""Executions that run: task runs, states and logs, advanced one step at a time, deterministically.

An execution's tasks are its flow's tasks in order (nested `tasks` and `then` lists flattened). Each step
(`tick`) moves one execution on: CREATED -> RUNNING with the first task run, then finishes the current
task run and starts the next, until the last one ends and the execution with it. A flowable task (one
with nested tasks) stays RUNNING while its children run, each child naming it as `parentTaskRunId`, and
ends with them: SUCCESS after its last child, or the failing child's state (Kestra: TaskRun.parentTaskRunId,
FlowableUtils.resolveState, v0.20.7). How it ends is the
flow's `Outcome` (set by a test; SUCCESS by default): a task that fails, warns, is killed or never ends
(a timeout for the client). Each task run logs one INFO line; a failing one logs its error lines at
ERROR (WARN for a warning), the way Kestra stores a task's logs (LogEntry, `GET /logs/{executionId}`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    parents: dict[str, str] = field(default_factory=dict)  # task id -> the flowable task it runs under


def flow_task_parents(tasks: Any, parent: str | None = None) -> dict[str, str | None]:
    """task id -> the id of the flowable task it is nested in (None at the top), in the order they run."""
    found: dict[str, str | None] = {}
    for task in tasks or []:
        if isinstance(task, dict) and task.get("id"):
            found[str(task["id"])] = parent
            for key in ("tasks", "then"):
                found.update(flow_task_parents(task.get(key), str(task["id"])))
    return found


def plan_run(state: EmulatorState, execution: dict[str, Any], document: dict[str, Any]) -> None:
    rule = state.outcomes.get(execution["flowId"], Outcome())
    outcome = rule(execution) if callable(rule) else rule
    parents = flow_task_parents(document.get("tasks"))
    tasks = list(parents) or ["(none)"]
    if outcome.task is not None and outcome.task not in tasks:
        raise ValueError(f"outcome task {outcome.task!r} is not a task of flow {execution['flowId']}")
    state.run_plans[execution["id"]] = RunPlan(tasks, outcome, {k: v for k, v in parents.items() if v})


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


def _start_task(execution: dict[str, Any], plan: RunPlan, task_id: str) -> dict[str, Any]:
    task_run = {"id": new_id(), "executionId": execution["id"], "namespace": execution["namespace"],
                "flowId": execution["flowId"], "taskId": task_id, "state": _new_state("RUNNING"),
                "attempts": [{"state": _new_state("RUNNING")}]}
    parent = next((run for run in _open_runs(execution) if run["taskId"] == plan.parents.get(task_id)), None)
    if parent is not None:
        task_run["parentTaskRunId"] = parent["id"]
    execution.setdefault("taskRunList", []).append(task_run)
    return task_run


def _open_runs(execution: dict[str, Any]) -> list[dict[str, Any]]:
    """The task runs not ended yet, innermost last (the current one and the flowable tasks around it)."""
    return [run for run in execution.get("taskRunList") or [] if run["state"]["current"] not in TERMINAL]


def _ancestors(plan: RunPlan, task_id: str) -> set[str]:
    found: set[str] = set()
    while (task_id := plan.parents.get(task_id)) is not None:
        found.add(task_id)
    return found


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
        _start_task(execution, plan, plan.tasks[0])
        return
    task_run = execution["taskRunList"][-1]
    outcome = plan.outcome
    position = plan.tasks.index(task_run["taskId"])
    decisive = outcome.state != "SUCCESS" and task_run["taskId"] == (outcome.task or plan.tasks[-1])
    if decisive and outcome.state == "RUNNING":
        return
    if decisive:
        level = "WARN" if outcome.state == "WARNING" else "ERROR"
        for line in outcome.errors:
            _log(state, execution, task_run, level, line)
        for run in _open_runs(execution):  # the failing task and the flowable tasks around it
            _end_task(run, outcome.state)
        _set_state(execution, outcome.state)
        return
    following = plan.tasks[position + 1] if position + 1 < len(plan.tasks) else None
    if following is not None and plan.parents.get(following) == task_run["taskId"]:
        _start_task(execution, plan, following)  # a flowable task: its first child runs inside it
        return
    _log(state, execution, task_run, "INFO", f"{task_run['taskId']} done")
    _end_task(task_run, "SUCCESS")
    around = _ancestors(plan, following) if following is not None else set()
    for run in reversed(_open_runs(execution)):  # flowable tasks whose last child just ended
        if run["taskId"] not in around:
            _end_task(run, "SUCCESS")
    if following is not None:
        _start_task(execution, plan, following)
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
