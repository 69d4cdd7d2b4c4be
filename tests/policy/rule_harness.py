"""Runs one rule the way the engine does: properties behind pulumi_policy's unknown-checking proxy,
config as the engine hands it over, report_violation collecting messages."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

UNKNOWN_STRING = UNKNOWN_STRING_VALUE
UNKNOWN_BOOL = UNKNOWN_BOOLEAN_VALUE
UNKNOWN_ARRAY = UNKNOWN_ARRAY_VALUE
UNKNOWN_OBJECT = UNKNOWN_OBJECT_VALUE


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def check(validate: Callable[..., Any], type_: str, props: Mapping[str, Any],
          config: Mapping[str, Any] | None = None, protect: bool = False) -> list[str]:
    """The messages `validate` reports for one resource."""
    messages: list[str] = []
    args = ResourceValidationArgs(type_, unknown_checking_proxy(dict(props)), f"urn:pulumi:test::kestra-stack::{type_}::r",
                                  "r", options(protect), None, dict(config or {}))
    validate(args, lambda message, urn=None: messages.append(message))
    return messages


def check_stack(validate: Callable[..., Any], resources: list[tuple[str, str, Mapping[str, Any]]],
                config: Mapping[str, Any] | None = None) -> list[tuple[str, str | None]]:
    """(message, urn) pairs `validate` reports for a stack of (type, name, props)."""
    reported: list[tuple[str, str | None]] = []
    policy_resources = [
        PolicyResource(type_, unknown_checking_proxy(dict(props)), f"urn:pulumi:test::kestra-stack::{type_}::{name}", name,
                       options(), None, None, [], {})
        for type_, name, props in resources
    ]
    validate(StackValidationArgs(policy_resources, dict(config or {})), lambda message, urn=None: reported.append((message, urn)))
    return reported
