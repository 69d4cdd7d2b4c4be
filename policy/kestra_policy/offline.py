"""Running the pack without the Pulumi engine, over resources from an offline plan (`ops plan`).

Mirrors what the engine does: resource policies see each resource's inputs behind the same
unknown-checking proxy, stack policies see them all; enforcement levels and properties come from the
policy's defaults, overridden by a policy config file in the format of `--policy-pack-config`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from . import pack
from .stack import judging

PROJECT = "kestra-stack"
_LEVELS = [level.value for level in EnforcementLevel]


class PolicyConfigError(ValueError):
    """A policy config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]
    parent: str | None = None
    protect: bool = False


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    message: str
    fix: str
    resource_type: str | None = None
    resource_name: str | None = None

    @property
    def mandatory(self) -> bool:
        return self.level == EnforcementLevel.MANDATORY.value


@dataclass(frozen=True)
class PolicySettings:
    level: EnforcementLevel
    properties: Mapping[str, Any] = field(default_factory=dict)


def _config_schema(policy: Policy) -> dict[str, Any]:
    properties: dict[str, Any] = {"enforcementLevel": {"type": "string", "enum": _LEVELS}}
    if policy.config_schema is not None:
        properties.update(policy.config_schema.properties)
    return {"type": "object", "properties": properties, "additionalProperties": False}


def load_policy_config(path: Path, policies: Sequence[Policy] = pack.POLICIES) -> dict[str, Any]:
    """Read and validate a policy config file; every error names the file and the key."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise PolicyConfigError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyConfigError(f"{path}: must be a JSON object keyed by policy name")
    by_name = {policy.name: policy for policy in policies}
    for key, value in document.items():
        if key == "all":
            if value not in _LEVELS:
                raise PolicyConfigError(f"{path}: all: must be one of {', '.join(_LEVELS)}")
            continue
        if key not in by_name:
            raise PolicyConfigError(f"{path}: {key}: no such policy in the pack")
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        try:
            jsonschema.validate(value, _config_schema(by_name[key]))
        except jsonschema.ValidationError as exc:
            where = ".".join([key, *(str(p) for p in exc.absolute_path)])
            raise PolicyConfigError(f"{path}: {where}: {exc.message}") from None
    return document


def resolve(policy: Policy, config: Mapping[str, Any]) -> PolicySettings:
    """The engine's precedence: the policy's entry, then `all`, then the policy's own level, then the pack's."""
    entry = config.get(policy.name, {})
    if isinstance(entry, str):
        entry = {"enforcementLevel": entry}
    level = entry.get("enforcementLevel") or config.get("all")
    if level:
        resolved = EnforcementLevel(level)
    else:
        resolved = policy.enforcement_level or pack.DEFAULT_ENFORCEMENT
    properties = {key: value for key, value in entry.items() if key != "enforcementLevel"}
    return PolicySettings(resolved, properties)


def urn(stack: str, resource: Resource) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{resource.type}::{resource.name}"


def _options(resource: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(resource.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], resource.parent)


def evaluate(
    resources: Iterable[Resource],
    stack: str,
    config: Mapping[str, Any] | None = None,
    policies: Sequence[Policy] = pack.POLICIES,
) -> list[Violation]:
    """Every violation the policies report for `resources` of `stack`, advisory ones included."""
    resources = list(resources)
    config = config or {}
    by_urn = {urn(stack, r): r for r in resources}
    # Each resource as the engine hands it to a policy, built once and shared: rules only read it.
    stack_resources = [
        PolicyResource(r.type, unknown_checking_proxy(dict(r.props)), urn(stack, r), r.name, _options(r), None, None, [], {})
        for r in resources
    ]
    violations: list[Violation] = []
    with judging(stack):
        for policy in policies:
            settings = resolve(policy, config)
            if settings.level == EnforcementLevel.DISABLED:
                continue
            level = EnforcementLevel.MANDATORY if settings.level == EnforcementLevel.REMEDIATE else settings.level
            fix = policy.remediation_steps or ""

            def report(subject: Resource | None) -> Any:
                def report_violation(message: str, reported_urn: str | None = None) -> None:
                    target = by_urn.get(reported_urn or "", subject)
                    violations.append(Violation(policy.name, level.value, message, fix,
                                                target.type if target else None, target.name if target else None))
                return report_violation

            if isinstance(policy, ResourceValidationPolicy):
                for resource, seen in zip(resources, stack_resources):
                    args = ResourceValidationArgs(seen.resource_type, seen.props, seen.urn, seen.name, seen.opts, None,
                                                  dict(settings.properties))
                    _run(policy, args, report(resource), violations, resource)
            elif isinstance(policy, StackValidationPolicy):
                _run(policy, StackValidationArgs(stack_resources, dict(settings.properties)), report(None), violations, None)
    return violations


def _run(policy: Any, args: Any, report_violation: Any, violations: list[Violation], resource: Resource | None) -> None:
    where = (resource.type, resource.name) if resource else (None, None)
    try:
        policy.validate(args, report_violation)
    except UnknownValueError as exc:
        # What the engine does during a preview: the policy cannot run yet, which is advisory.
        violations.append(Violation(policy.name, EnforcementLevel.ADVISORY.value,
                                    f"cannot be checked before apply: {exc.message}", "", *where))
    except Exception as exc:  # noqa: BLE001 - a crashing rule must fail the plan, not pass it
        violations.append(Violation(policy.name, EnforcementLevel.MANDATORY.value,
                                    f"the policy failed to run ({type(exc).__name__})", "report this as a bug", *where))
