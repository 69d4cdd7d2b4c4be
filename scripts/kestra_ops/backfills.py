"""Backfills on Schedule triggers (PUT /triggers), created at most once per flow, trigger and window.

Each backfill carries the label `ops-backfill=<id>`, a stable id of namespace/flow/trigger/window. Kestra
copies backfill labels onto the executions it creates, so a backfill that is still running is found in
the trigger's context and a finished one in the executions; either way it is skipped, not re-created.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kestra_ops.client import KestraClient
from kestra_ops.errors import OpsError
from kestra_ops.executions import search_by_label
from kestra_ops.outputs import BackfillSpec

LABEL = "ops-backfill"


@dataclass(frozen=True)
class BackfillState:
    spec: BackfillSpec
    backfill_id: str
    state: str  # missing | running | finished | blocked (another backfill runs on the trigger)
    detail: str = ""

    @property
    def window(self) -> str:
        return f"{iso(self.spec.start)} .. {iso(self.spec.end)}"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _utc(text: str) -> str:
    try:
        return iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def backfill_id(namespace: str, spec: BackfillSpec) -> str:
    identity = f"{namespace}/{spec.flow_id}/{spec.trigger_id}/{iso(spec.start)}/{iso(spec.end)}"
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def find_trigger(client: KestraClient, namespace: str, flow_id: str, trigger_id: str) -> dict[str, Any] | None:
    page = client.get_json(f"/triggers/{namespace}/{flow_id}", params={"page": 1, "size": 100})
    return next((t for t in page.get("results", []) if t.get("triggerId") == trigger_id), None)


def wait_for_trigger(
    client: KestraClient, namespace: str, spec: BackfillSpec, timeout_s: float, where: str
) -> dict[str, Any]:
    """Kestra's scheduler registers a trigger some moments after its flow is saved: poll with a deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        trigger = find_trigger(client, namespace, spec.flow_id, spec.trigger_id)
        if trigger is not None:
            return trigger
        if time.monotonic() >= deadline:
            raise OpsError(
                f"{where}: flow {namespace}.{spec.flow_id} has no trigger {spec.trigger_id!r} on the server "
                f"(waited {timeout_s:g} s); seed the flows first and check the trigger id"
            )
        client.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


def labelled_executions(client: KestraClient, namespace: str, flow_id: str, value: str) -> int:
    return int(search_by_label(client, namespace, flow_id, LABEL, value, size=1).get("total", 0))


def backfill_state(client: KestraClient, namespace: str, spec: BackfillSpec, trigger: dict[str, Any]) -> BackfillState:
    ident = backfill_id(namespace, spec)
    current = trigger.get("backfill")
    if current:
        labels = {label.get("key"): label.get("value") for label in current.get("labels") or []}
        if labels.get(LABEL) == ident:
            detail = f"at {_utc(current['currentDate'])}" if current.get("currentDate") else ""
            return BackfillState(spec, ident, "running", detail)
        return BackfillState(
            spec, ident, "blocked", f"another backfill ({current.get('start')} .. {current.get('end')}) runs on this trigger"
        )
    executions = labelled_executions(client, namespace, spec.flow_id, ident)
    if executions:
        return BackfillState(spec, ident, "finished", f"{executions} executions")
    return BackfillState(spec, ident, "missing")


def create_backfill(client: KestraClient, namespace: str, state: BackfillState, trigger: dict[str, Any]) -> None:
    spec = state.spec
    body = {
        key: trigger[key] for key in ("tenantId", "namespace", "flowId", "triggerId", "date") if trigger.get(key) is not None
    }
    body["backfill"] = {
        "start": iso(spec.start),
        "end": iso(spec.end),
        "inputs": dict(spec.inputs),
        "labels": [{"key": k, "value": v} for k, v in spec.labels] + [{"key": LABEL, "value": state.backfill_id}],
    }

    def applied() -> bool:
        fresh = find_trigger(client, namespace, spec.flow_id, spec.trigger_id) or {}
        return backfill_state(client, namespace, spec, fresh).state in ("running", "finished")

    client.write("PUT", "/triggers", json=body, applied=applied)


def seed_backfills(
    client: KestraClient,
    namespace: str,
    specs: tuple[BackfillSpec, ...],
    *,
    dry_run: bool,
    trigger_timeout_s: float,
    advance: Callable[[], None],
) -> list[tuple[BackfillState, str]]:
    """Returns (state before, action) per backfill; action is 'create' or 'skip'."""
    results = []
    for index, spec in enumerate(specs):
        if dry_run:  # the flows may not be seeded yet: report, do not wait
            trigger = find_trigger(client, namespace, spec.flow_id, spec.trigger_id)
            if trigger is None:
                state = BackfillState(spec, backfill_id(namespace, spec), "missing", "trigger not on the server yet")
                results.append((state, "create"))
                advance()
                continue
        else:
            trigger = wait_for_trigger(client, namespace, spec, trigger_timeout_s, f"kestra_backfills[{index}]")
        state = backfill_state(client, namespace, spec, trigger)
        if state.state == "missing":
            if not dry_run:
                create_backfill(client, namespace, state, trigger)
            results.append((state, "create"))
        else:
            results.append((state, "skip"))
        advance()
    return results
