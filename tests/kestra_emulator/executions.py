"""Executions: created through the API (multipart inputs, `labels=k:v`) or by the scheduler for backfills;
how they run afterwards is runs.py."""

from __future__ import annotations

import re
from typing import Any

from tests.kestra_emulator.filters import FilterQuery, page_of
from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse, illegal_argument
from tests.kestra_emulator.multipart import parse_multipart
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.runs import plan_run
from tests.kestra_emulator.state import EmulatorState, StoredFlow, iso, new_id, now


def _labels_map(labels: list[dict[str, str]]) -> dict[str, str]:
    return {label["key"]: label["value"] for label in labels}


def flow_labels(flow: StoredFlow) -> list[dict[str, str]]:
    """A flow's own labels (list or map in the source), system labels excluded as Kestra does."""
    labels = flow.document.get("labels") or []
    pairs = labels.items() if isinstance(labels, dict) else ((item.get("key"), item.get("value")) for item in labels)
    return [{"key": str(key), "value": str(value)} for key, value in pairs if not str(key).startswith("system.")]


def _java_int(text: str) -> bool:
    """Integer.valueOf accepts it: an optional sign and digits, within 32 bits (no spaces, no `_`)."""
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None and -2**31 <= int(text) < 2**31


def check_inputs(flow: StoredFlow, inputs: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Inputs with the flow's defaults applied; `strict` rejects them as the API does (422)."""
    resolved = dict(inputs) if not strict else {}
    for declared in flow.document.get("inputs") or []:
        input_id = declared.get("id")
        if input_id in inputs:
            value = inputs[input_id]
            values = declared.get("values")
            if (strict and declared.get("type") in ("SELECT", "ENUM") and values and value not in values
                    and not declared.get("allowCustomValue")):
                raise ApiError(422, f"Invalid input for `{input_id}`, it must match the values `{values}`")
            validator = declared.get("validator")
            if strict and declared.get("type") == "STRING" and validator is not None \
                    and not re.fullmatch(str(validator), str(value)):
                raise ApiError(422, f"Invalid input for `{input_id}`, it must match the pattern `{validator}`")
            if strict and declared.get("type") == "INT" and not _java_int(str(value)):
                # FlowInputOutput.parseType (v0.20.7): Integer.valueOf's NumberFormatException
                raise ApiError(422, f'Invalid input for `{input_id}`, For input string: "{value}"')
            resolved[input_id] = value
        elif declared.get("defaults") is not None:
            resolved[input_id] = declared["defaults"]
        elif strict and declared.get("required", True):
            raise ApiError(422, f"Invalid input for `{input_id}`, missing required input, but received `null`")
    return resolved


def new_execution(state: EmulatorState, flow: StoredFlow, inputs: dict[str, Any], labels: list[dict[str, str]],
                  trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record an execution; the scheduler's (with a trigger) takes inputs as given, like Kestra's."""
    execution_id = new_id()
    # Kestra adds a correlation id to every execution that does not carry one.
    if not any(label["key"] == "system.correlationId" for label in labels):
        labels = [*labels, {"key": "system.correlationId", "value": execution_id}]
    started = iso(now())
    execution: dict[str, Any] = {
        "id": execution_id, "namespace": flow.namespace, "flowId": flow.id, "flowRevision": flow.revision,
        "inputs": check_inputs(flow, inputs, strict=trigger is None), "labels": labels, "deleted": False, "scheduleDate": None,
        "state": {"current": "CREATED", "startDate": started, "histories": [{"state": "CREATED", "date": started}]},
    }
    if state.tenant_id:
        execution["tenantId"] = state.tenant_id
    if trigger is not None:
        execution["trigger"] = trigger
    plan_run(state, execution, flow.document)
    state.executions.append(execution)
    state.mark_applied()
    return execution


def create_execution(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    flow = state.live_flow(request.path_params["namespace"], request.path_params["id"])
    if flow is None:
        raise ApiError(404, "Flow not found")
    if flow.document.get("disabled"):
        raise ApiError(409, "Cannot execute a disabled flow")
    inputs = {part.name: part.content.decode("utf-8") for part in parse_multipart(request)} if request.body else {}
    labels = list(flow_labels(flow))
    for raw in request.query.get("labels", []):
        key, separator, value = raw.partition(":")
        if not separator or not key or not value:
            raise ApiError(400, f"Invalid label '{raw}': expected key:value")
        # ExecutionController.parseLabels (0.20.7 and 1.x): only system.correlationId may be set by a client.
        if key.startswith("system.") and key != "system.correlationId":
            raise illegal_argument(f"System labels can only be set by Kestra itself, offending label: {key}={value}")
        labels = [label for label in labels if label["key"] != key] + [{"key": key, "value": value}]
    return ApiResponse.json(200, new_execution(state, flow, inputs, labels))


def search_executions(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    query = FilterQuery.from_request(request, state, legacy=("namespace", "flowId", "labels", "state"))
    matching = [execution for execution in reversed(state.executions)
                if query.matches(namespace=execution["namespace"], flowId=execution["flowId"],
                                 labels=_labels_map(execution["labels"]), state=execution["state"]["current"],
                                 q=execution["id"])]
    return ApiResponse.json(200, page_of(matching, request))


def summary(execution: dict[str, Any]) -> dict[str, Any]:
    """What tests assert on: flow, inputs, labels as a map, and the schedule date a trigger gave it."""
    trigger = execution.get("trigger") or {}
    return {"id": execution["id"], "namespace": execution["namespace"], "flowId": execution["flowId"],
            "inputs": execution["inputs"], "labels": _labels_map(execution["labels"]),
            "triggerId": trigger.get("id"), "state": execution["state"]["current"],
            "scheduleDate": (trigger.get("variables") or {}).get("date") or execution.get("scheduleDate")}


ROUTES = (
    Route("POST", "/api/v1/{tenant}/executions/{namespace}/{id}", create_execution),
    Route("GET", "/api/v1/{tenant}/executions/search", search_executions),
)
