"""Search filters: Kestra 1.x `filters[field][OP][subkey]=value` and the older plain query parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.kestra_emulator.http_types import ApiError, ApiRequest
from tests.kestra_emulator.state import EmulatorState

FILTER_PARAM = re.compile(r"^filters\[(\w+)\]\[(\w+)\](?:\[([^\]]+)\])?$")
IGNORED_FIELDS = frozenset({"scope", "timeRange", "startDate", "endDate", "kind", "childFilter"})


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str
    subkey: str | None = None

    def holds(self, actual: Any) -> bool:
        if self.field == "labels":
            labels = actual or {}
            if self.subkey is None:
                key, _, value = self.value.partition(":")
            else:
                key, value = self.subkey, self.value
            equal = labels.get(key) == value
            return not equal if self.op == "NOT_EQUALS" else equal
        text = "" if actual is None else str(actual)
        match self.op:
            case "EQUALS":
                return text == self.value
            case "NOT_EQUALS":
                return text != self.value
            case "IN":
                return text in self.value.split(",")
            case "NOT_IN":
                return text not in self.value.split(",")
            case "PREFIX":
                return text == self.value or text.startswith(self.value + ".")
            case "STARTS_WITH":
                return text.startswith(self.value)
            case "ENDS_WITH":
                return text.endswith(self.value)
            case "CONTAINS":
                return self.value.lower() in text.lower()
            case "REGEX":
                return re.search(self.value, text) is not None
        raise ApiError(400, f"Unsupported filter operation {self.op} on {self.field}")


@dataclass(frozen=True)
class FilterQuery:
    conditions: tuple[Condition, ...]

    @classmethod
    def from_request(cls, request: ApiRequest, state: EmulatorState, legacy: tuple[str, ...]) -> FilterQuery:
        conditions = []
        filtered = False
        # Kestra 0.20 knows only the plain parameters: a `filters[...]` query there filters nothing.
        if state.tenanted:
            for name, values in request.query.items():
                match = FILTER_PARAM.match(name)
                if match is None:
                    continue
                filtered = True
                field, op, subkey = match.groups()
                if field in IGNORED_FIELDS:
                    continue
                conditions.extend(Condition(field, op.upper(), value, subkey) for value in values)
        # 1.x: `filters[...]` when given, else the deprecated parameters (RequestUtils.getFiltersOrDefaultToLegacyMapping).
        for name in legacy if not filtered else ():
            for value in request.query.get(name, []):
                op = {"namespace": "PREFIX", "q": "CONTAINS", "state": "IN"}.get(name, "EQUALS")
                conditions.append(Condition(name, op, value))
        return cls(tuple(conditions))

    def matches(self, **fields: Any) -> bool:
        for condition in self.conditions:
            if condition.field not in fields:
                raise ApiError(400, f"Filter field '{condition.field}' is not supported here by the emulator")
            if not condition.holds(fields[condition.field]):
                return False
        return True


def page_of(documents: list[Any], request: ApiRequest) -> dict[str, Any]:
    page, size = int(request.arg("page", "1")), int(request.arg("size", "10"))
    start = (page - 1) * size
    return {"results": documents[start:start + size], "total": len(documents)}
