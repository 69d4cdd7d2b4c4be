"""`-i key=value` pairs for `ops run`, checked against the inputs the flow declares on the server, so that a
typo or a value outside a SELECT's list is one clear line before any execution is created.

The rules are Kestra's: an input is required unless `required: false` or it has `defaults` (Input.required
defaults to true); SELECT/ENUM values must be in `values` unless `allowCustomValue`; a STRING with a
`validator` must match that pattern as a whole (StringInput.validate; a pattern in Java syntax Python
cannot read is left to the server); INT, FLOAT and BOOLEAN/BOOL (0.22+) must parse. Other types are left
to the server, which checks them again anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kestra_ops.errors import OpsError

# What Java's Integer.valueOf reads: no spaces, no `_` (Python's int() takes both).
JAVA_INT = re.compile(r"[+-]?[0-9]+")


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise OpsError(f"-i {pair}: expected key=value")
        inputs[key.strip()] = value
    return inputs


def _type_problem(declared: dict[str, Any], value: str) -> str | None:
    kind = str(declared.get("type", "STRING")).upper()
    if kind in ("SELECT", "ENUM"):
        values = [str(v) for v in declared.get("values") or []]
        if values and value not in values and not declared.get("allowCustomValue"):
            return f"must be one of {', '.join(values)}"
    elif kind == "STRING" and declared.get("validator") is not None:
        try:
            pattern = re.compile(str(declared["validator"]))
        except re.error:  # Java syntax Python lacks (\p{Alpha}, …): the server checks it
            return None
        if not pattern.fullmatch(value):
            return f"must match the pattern `{declared['validator']}`"
    elif kind == "INT":
        if not JAVA_INT.fullmatch(value) or not -2**31 <= int(value) < 2**31:  # Integer.valueOf (FlowInputOutput)
            return "must be an integer"
    elif kind == "FLOAT":
        try:
            float(value)
        except ValueError:
            return "must be a number"
    elif kind in ("BOOLEAN", "BOOL") and value.lower() not in ("true", "false"):
        return "must be true or false"
    return None


def check_inputs(flow: dict[str, Any], given: dict[str, str]) -> None:
    """Raise one OpsError naming each wrong input; return when the server would accept these inputs."""
    name = f"{flow.get('namespace')}.{flow.get('id')}"
    declared = {str(item["id"]): item for item in flow.get("inputs") or [] if isinstance(item, dict) and item.get("id")}
    problems = []
    for key, value in given.items():
        if key not in declared:
            known = ", ".join(declared) or "none"
            problems.append(f"-i {key}: flow {name} has no input {key!r} (its inputs: {known})")
            continue
        problem = _type_problem(declared[key], value)
        if problem:
            problems.append(f"-i {key}={value}: {problem}")
    for key, item in declared.items():
        if key not in given and item.get("required", True) and item.get("defaults") is None:
            problems.append(f"input {key!r} of flow {name} is required and has no default: pass -i {key}=VALUE")
    if problems:
        raise OpsError("; ".join(problems) + " (no execution created)")
