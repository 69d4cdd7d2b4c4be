"""KV entries: each value is sent as a JSON literal (Content-Type application/json) so Kestra infers its type;
an entry whose stored value already equals it is left alone. Values are never printed or put in errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kestra_ops.client import KestraClient

ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True)
class KvChange:
    key: str
    type: str
    action: str  # create, update, unchanged

    def describe(self) -> str:
        return f"{self.action:9} kv {self.key} ({self.type})"


def kv_type(value: Any) -> str:
    """The type Kestra infers from a JSON literal."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, (int, float)):
        return "NUMBER"
    if isinstance(value, (dict, list)):
        return "JSON"
    if isinstance(value, str):
        if ISO_DURATION.match(value):
            return "DURATION"
        if ISO_DATE.match(value):
            return "DATE"
        if ISO_DATETIME.match(value):
            return "DATETIME"
    return "STRING"


def read_entry(client: KestraClient, namespace: str, key: str) -> dict[str, Any] | None:
    response = client.get_or_none(f"/namespaces/{namespace}/kv/{key}")
    return None if response is None else response.json()


def plan_kv(client: KestraClient, namespace: str, entries: Mapping[str, Any]) -> list[KvChange]:
    changes = []
    for key, value in sorted(entries.items()):
        current = read_entry(client, namespace, key)
        if current is None:
            action = "create"
        elif same_value(current, value):
            action = "unchanged"
        else:
            action = "update"
        changes.append(KvChange(key, kv_type(value), action))
    return changes


def apply_kv(
    client: KestraClient, namespace: str, entries: Mapping[str, Any], changes: list[KvChange], advance: Callable[[], None]
) -> None:
    for change in changes:
        if change.action == "unchanged":
            continue
        value = entries[change.key]
        client.write(
            "PUT",
            f"/namespaces/{namespace}/kv/{change.key}",
            content=json.dumps(value).encode(),
            headers={"Content-Type": "application/json"},
            applied=lambda key=change.key, value=value: same_value(read_entry(client, namespace, key), value),
        )
        advance()


def same_value(current: dict[str, Any] | None, value: Any) -> bool:
    """Whether a stored entry (as GET /kv/{key} answers, or None) holds `value` with the type it would get."""
    return current is not None and current.get("type") == kv_type(value) and current.get("value") == value
