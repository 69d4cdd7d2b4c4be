"""Trigger contexts (one per Schedule trigger of each flow), their search, and backfills set through them.

Mirrors Kestra's TriggerController: `PUT /triggers` with a `backfill` replaces whatever backfill the trigger
had (there is no "already exists" check, so a second PUT restarts the window from its start); without one
it sets `disabled`. Pause/unpause/delete look the context up by its uid, which includes the body's
`tenantId`: on 0.23+ a body without `"tenantId": "main"` finds nothing and gets 404.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from tests.kestra_emulator.filters import FilterQuery, page_of
from tests.kestra_emulator.flow_rules import croniter_expression, schedule_triggers
from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.state import EmulatorState, StoredFlow, iso, now

TriggerKey = tuple[str, str, str]


def parse_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"date-time without an offset: {value}")
    return moment


def trigger_definition(state: EmulatorState, key: TriggerKey) -> dict[str, Any] | None:
    flow = state.live_flow(key[0], key[1])
    if flow is None:
        return None
    return next((t for t in flow.document.get("triggers") or [] if isinstance(t, dict) and t.get("id") == key[2]), None)


def next_schedule_date(trigger: dict[str, Any], after: datetime) -> datetime:
    zone = ZoneInfo(str(trigger.get("timezone") or "UTC"))
    return croniter(croniter_expression(trigger), after.astimezone(zone)).get_next(datetime)


def sync_flow_triggers(state: EmulatorState, flow: StoredFlow) -> None:
    """Create a context for each new Schedule trigger, keep existing ones, drop those the flow lost."""
    wanted = {trigger["id"]: trigger for trigger in schedule_triggers(flow.document)}
    for key in [key for key in state.triggers if key[:2] == (flow.namespace, flow.id) and key[2] not in wanted]:
        del state.triggers[key]
    for trigger_id, trigger in wanted.items():
        key = (flow.namespace, flow.id, trigger_id)
        if key not in state.triggers:
            context: dict[str, Any] = {"namespace": flow.namespace, "flowId": flow.id, "triggerId": trigger_id,
                                       "date": iso(now()), "nextExecutionDate": iso(next_schedule_date(trigger, now())),
                                       "backfill": None, "disabled": False}
            if state.tenant_id:
                context["tenantId"] = state.tenant_id
            state.triggers[key] = context


def drop_flow_triggers(state: EmulatorState, namespace: str, flow_id: str) -> None:
    for key in [key for key in state.triggers if key[:2] == (namespace, flow_id)]:
        del state.triggers[key]


def _key_of(body: Any) -> TriggerKey:
    if not isinstance(body, dict):
        raise ApiError(400, "The trigger body must be a JSON object")
    try:
        return str(body["namespace"]), str(body["flowId"]), str(body["triggerId"])
    except KeyError as missing:
        raise ApiError(400, f"The trigger body misses {missing}") from None


def _new_backfill(context: dict[str, Any], backfill: Any) -> dict[str, Any]:
    if not isinstance(backfill, dict) or not backfill.get("start"):
        raise ApiError(400, "A backfill needs a start date")
    try:
        start = parse_datetime(str(backfill["start"]))
        if backfill.get("end"):
            parse_datetime(str(backfill["end"]))
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return {"start": backfill["start"], "end": backfill.get("end"), "currentDate": iso(start), "paused": False,
            "inputs": backfill.get("inputs") or {}, "labels": backfill.get("labels") or [],
            "previousNextExecutionDate": context.get("nextExecutionDate")}


def update_trigger(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    body = request.json()
    key = _key_of(body)
    flow = state.live_flow(key[0], key[1])
    if flow is None:
        raise ApiError(404, f"Flow of trigger {key[2]} not found")
    if trigger_definition(state, key) is None:
        raise ApiError(404, f"Flow {key[1]} has no trigger {key[2]}")
    context = state.triggers.get(key)
    if context is None:
        raise ApiError(404, empty_body=True)
    if body.get("backfill") is not None:
        context["backfill"] = _new_backfill(context, body["backfill"])
        state.mark_applied()
        return ApiResponse.json(200, copy.deepcopy(context))
    disabled = bool(body.get("disabled", False))
    if context.get("disabled") != disabled:
        context["disabled"] = disabled
        if disabled:
            context["nextExecutionDate"] = None
        state.mark_applied()
    return ApiResponse.json(200, context)


def _context_by_uid(state: EmulatorState, request: ApiRequest) -> dict[str, Any]:
    body = request.json()
    key = _key_of(body)
    context = state.triggers.get(key)
    if context is None or body.get("tenantId") != state.tenant_id:
        raise ApiError(404, empty_body=True)
    if context.get("backfill") is None:
        raise ApiError(400, "No backfill found")
    return context


def pause_backfill(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    return _set_paused(state, request, True)


def unpause_backfill(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    return _set_paused(state, request, False)


def _set_paused(state: EmulatorState, request: ApiRequest, paused: bool) -> ApiResponse:
    context = _context_by_uid(state, request)
    context["backfill"] = {**context["backfill"], "paused": paused}
    state.mark_applied()
    return ApiResponse.json(200, context)


def delete_backfill(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    context = _context_by_uid(state, request)
    context["nextExecutionDate"] = context["backfill"].get("previousNextExecutionDate")
    context["backfill"] = None
    state.mark_applied()
    return ApiResponse.json(200, context)


def _sorted_contexts(state: EmulatorState) -> list[tuple[TriggerKey, dict[str, Any]]]:
    return sorted(state.triggers.items())


def search_triggers(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    query = FilterQuery.from_request(request, state, legacy=("namespace", "flowId", "q"))
    results = []
    for key, context in _sorted_contexts(state):
        if query.matches(namespace=key[0], flowId=key[1], triggerId=key[2], q=key[2]):
            results.append({"abstractTrigger": trigger_definition(state, key), "triggerContext": context})
    return ApiResponse.json(200, page_of(results, request))


def triggers_for_flow(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace, flow_id = request.path_params["namespace"], request.path_params["flowId"]
    query = request.arg("q")
    contexts = [context for key, context in _sorted_contexts(state)
                if key[:2] == (namespace, flow_id) and (query is None or query in key[2])]
    return ApiResponse.json(200, page_of(contexts, request))


ROUTES = (
    Route("GET", "/api/v1/{tenant}/triggers/search", search_triggers),
    Route("GET", "/api/v1/{tenant}/triggers/{namespace}/{flowId}", triggers_for_flow),
    Route("PUT", "/api/v1/{tenant}/triggers", update_trigger),
    Route("PUT", "/api/v1/{tenant}/triggers/backfill/pause", pause_backfill),
    Route("PUT", "/api/v1/{tenant}/triggers/backfill/unpause", unpause_backfill),
    Route("POST", "/api/v1/{tenant}/triggers/backfill/delete", delete_backfill),
)
