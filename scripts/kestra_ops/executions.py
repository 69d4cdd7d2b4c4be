"""Executions: create one for a flow (once, even when an answer is lost), follow it to its end, read why it
failed.

Kestra's API (ExecutionController, 0.20.7 and 1.x): `POST …/executions/{namespace}/{id}` takes the inputs as
multipart form fields and labels as `labels=key:value` query parameters, and answers with the execution
(state CREATED); `GET …/executions/{id}` returns it with its `taskRunList`; `GET …/logs/{id}?minLevel=ERROR`
its error lines. Every execution `ops run` creates carries the label `ops-run=<random token>`: when the
answer to the create is lost, the executions search by that label tells whether it was created before the
request is sent again (only `system.correlationId` among system labels may be set by a client, so the token
is a plain label).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kestra_ops.client import KestraClient

RUN_LABEL = "ops-run"
# State.Type.isTerminated() in Kestra (0.20.7 and 1.x).
TERMINAL = frozenset({"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"})
ERROR_LINES = 10
# A create that answered is searchable at once (the JDBC queue indexes the execution in the emit's own
# transaction: JdbcQueue.emit -> JdbcQueueIndexer, v0.20.7), but an answer lost to a client timeout can leave
# the create still running on the server: "not created" is concluded only after looking for this long.
SETTLE_S = 5.0


def search_by_label(client: KestraClient, namespace: str, flow_id: str, key: str, value: str, *,
                    page: int = 1, size: int = 100) -> dict[str, Any]:
    """One page of the flow's executions carrying label key=value (1.x filters, 0.20 plain parameters)."""
    if client.server.api.endswith("/main"):
        params = {"filters[namespace][EQUALS]": namespace, "filters[flowId][EQUALS]": flow_id,
                  f"filters[labels][EQUALS][{key}]": value}
    else:
        params = {"namespace": namespace, "flowId": flow_id, "labels": f"{key}:{value}"}
    return client.get_json("/executions/search", params={**params, "page": page, "size": size})


def create_execution(client: KestraClient, namespace: str, flow_id: str, inputs: dict[str, str], *,
                     token: str | None = None) -> dict[str, Any]:
    token = token or secrets.token_hex(8)
    found: list[dict[str, Any]] = []

    def applied() -> bool:
        deadline = time.monotonic() + min(SETTLE_S, client.retry.max_delay_s)
        while True:
            results = search_by_label(client, namespace, flow_id, RUN_LABEL, token, size=1).get("results") or []
            if results:
                found.append(results[0])
                return True
            if time.monotonic() >= deadline:
                return False
            client.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    files = {key: (None, value) for key, value in inputs.items()}
    response = client.write("POST", f"/executions/{namespace}/{flow_id}", params={"labels": [f"{RUN_LABEL}:{token}"]},
                            files=files or None, applied=applied)
    return response.json() if response is not None else found[0]


def get_execution(client: KestraClient, execution_id: str) -> dict[str, Any]:
    return client.get_json(f"/executions/{execution_id}")


def count_tasks(tasks: Any) -> int:
    """Tasks a flow declares under `tasks`, `then` and `else`, nested ones included: what the bar counts to
    while a run goes (a run makes fewer, one branch of an If, or more: loops, `finally`)."""
    total = 0
    for task in tasks or []:
        if isinstance(task, dict):
            total += 1
            for key in ("tasks", "then", "else"):
                total += count_tasks(task.get(key))
    return total


@dataclass(frozen=True)
class Progress:
    state: str
    done: int
    total: int
    current: str | None  # the task running now

    @property
    def text(self) -> str:
        at = f", at {self.current}" if self.current else ""
        return f"{self.state}: {self.done}/{self.total} task runs done{at}"


def progress(execution: dict[str, Any], declared_tasks: int) -> Progress:
    runs = execution.get("taskRunList") or []
    done = sum((run.get("state") or {}).get("current") in TERMINAL for run in runs)
    running = [run["taskId"] for run in runs if (run.get("state") or {}).get("current") not in TERMINAL]
    state = (execution.get("state") or {}).get("current", "?")
    # An If runs one branch of two: a run that succeeded made all its task runs, fewer than the flow declares.
    total = len(runs) if state == "SUCCESS" else max(declared_tasks, len(runs))
    return Progress(state, done, total, running[-1] if running else None)


def follow(client: KestraClient, execution: dict[str, Any], declared_tasks: int, *, timeout_s: float,
           interval_s: float, show: Callable[[Progress], None]) -> tuple[dict[str, Any], bool]:
    """Poll the execution (one GET per poll) until it ends or the deadline passes: (last document, ended)."""
    deadline = time.monotonic() + timeout_s
    while True:
        show(progress(execution, declared_tasks))
        if execution["state"]["current"] in TERMINAL:
            return execution, True
        left = deadline - time.monotonic()
        if left <= 0:
            return execution, False
        client.sleep(min(interval_s, left))
        execution = get_execution(client, execution["id"])


def failed_task(execution: dict[str, Any]) -> str | None:
    """The first task run that did not succeed and is no flowable task's run around another such one: a
    child's failure fails its If, Parallel, … too (FlowableUtils.resolveState), and those come first in the
    taskRunList, but the task that failed is the child (its `parentTaskRunId` names them)."""
    failed = [run for run in execution.get("taskRunList") or []
              if (run.get("state") or {}).get("current") in ("FAILED", "KILLED", "WARNING")]
    parents = {run.get("parentTaskRunId") for run in failed}
    return next((run.get("taskId") for run in failed if run.get("id") not in parents), None)


def error_lines(client: KestraClient, execution_id: str, task_id: str | None, level: str) -> list[str]:
    """The last ERROR (or WARN) lines the execution logged, those of the failed task when there are some."""
    entries = client.get_json(f"/logs/{execution_id}", params={"minLevel": level}) or []
    own = [entry for entry in entries if task_id is not None and entry.get("taskId") == task_id]
    chosen = own or entries
    return [f"{entry.get('taskId') or '-'}: {entry.get('message', '')}" for entry in chosen[-ERROR_LINES:]]
