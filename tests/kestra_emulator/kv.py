"""The KV store: values typed from the JSON/Ion literal body, `ttl` expiry, key pattern, list and delete."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse, illegal_argument
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.state import EmulatorState, KvEntry, iso, now

KEY = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# java.time.Duration.parse: days and smaller only.
JAVA_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
ION_SYMBOL = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def kv_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMBER"
    if isinstance(value, dict | list):
        return "JSON"
    text = str(value)
    if ISO_DURATION.match(text):
        return "DURATION"
    if ISO_DATE.match(text):
        return "DATE"
    if ISO_DATETIME.match(text):
        return "DATETIME"
    return "STRING"


def parse_literal(body: str) -> Any:
    """The body as Kestra's Ion reader sees it: any JSON literal, or an unquoted Ion timestamp or symbol."""
    text = body.strip()
    try:
        return json.loads(text)
    except ValueError:
        if ISO_DATE.match(text) or ISO_DATETIME.match(text) or ION_SYMBOL.match(text):
            return text
        raise illegal_argument(f"Invalid JSON value for: {body}") from None


def parse_ttl(raw: str) -> timedelta:
    match = JAVA_DURATION.match(raw.strip())
    if match is None or raw.strip() in ("P", "PT"):
        raise illegal_argument(f"Text cannot be parsed to a Duration: {raw}")
    days, hours, minutes, seconds = (float(group) if group else 0.0 for group in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _key(request: ApiRequest) -> tuple[str, str]:
    key = request.path_params["key"]
    if not KEY.match(key):
        raise illegal_argument(f"Key '{key}' must start with an alphanumeric character and contain only "
                               "alphanumeric characters, dots, underscores and hyphens")
    return request.path_params["namespace"], key


def set_value(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    key = _key(request)
    value = parse_literal(request.text())
    if value is None:
        raise illegal_argument("A KV value cannot be null")
    ttl = request.headers.get("ttl")
    moment = now()
    previous = state.kv.get(key)
    state.kv[key] = KvEntry(type=kv_type(value), value=value, version=previous.version + 1 if previous else 1,
                            created=previous.created if previous else moment, updated=moment,
                            expires=moment + parse_ttl(ttl) if ttl else None,
                            description=request.headers.get("description"))
    state.mark_applied()
    return ApiResponse.empty(200)


def get_value(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace, key = _key(request)
    entry = state.kv.get((namespace, key))
    if entry is None:
        raise ApiError(404, f"No value found for key '{key}' in namespace '{namespace}'")
    if entry.expired():
        raise ApiError(410, f"The requested value has expired: key '{key}' in namespace '{namespace}'")
    return ApiResponse.json(200, {"type": entry.type, "value": entry.value})


def delete_value(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    existed = state.kv.pop(_key(request), None) is not None
    if existed:
        state.mark_applied()
    return ApiResponse.json(200, existed)


def list_keys(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace = request.path_params["namespace"]
    entries = []
    for (entry_namespace, key), entry in sorted(state.kv.items()):
        if entry_namespace != namespace or entry.expired():
            continue
        entries.append({"namespace": namespace, "key": key, "version": entry.version,
                        "description": entry.description, "creationDate": iso(entry.created),
                        "updateDate": iso(entry.updated),
                        "expirationDate": iso(entry.expires) if entry.expires else None})
    return ApiResponse.json(200, entries)


ROUTES = (
    Route("GET", "/api/v1/{tenant}/namespaces/{namespace}/kv", list_keys),
    Route("GET", "/api/v1/{tenant}/namespaces/{namespace}/kv/{key}", get_value),
    Route("PUT", "/api/v1/{tenant}/namespaces/{namespace}/kv/{key}", set_value),
    Route("DELETE", "/api/v1/{tenant}/namespaces/{namespace}/kv/{key}", delete_value),
)
