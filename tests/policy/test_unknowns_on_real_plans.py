"""A preview's unknowns and absent properties, on the real plans of every target: no rule crashes, and
an unknown is never reported as a violation."""
from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

from infra.offline import plan_stack
from kestra_policy.offline import Resource, evaluate

PROJECT = "policy-test-project"


@pytest.fixture(scope="module", params=["prod", "dev", "gke"])
def real_plan(request) -> tuple[str, list[Resource]]:
    """(stack, resources): the VM target's plan, and the Docker target's with the data lake."""
    config = {"gcpProject": PROJECT, "labels": '["app=kestra-stack", "env=test"]'}
    planned = plan_stack(request.param, config=config).resources
    return request.param, [Resource(r.type, r.name, r.inputs, r.parent) for r in planned]


def unknown_leaves(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: unknown_leaves(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unknown_leaves(item) for item in value]
    return UNKNOWN_STRING_VALUE


def unknown_top_level(props: dict) -> dict:
    return {key: UNKNOWN_ARRAY_VALUE if isinstance(value, list) else UNKNOWN_OBJECT_VALUE if isinstance(value, dict)
            else UNKNOWN_STRING_VALUE for key, value in props.items()}


def crashes(violations) -> list:
    return [v for v in violations if "failed to run" in v.message or "before apply" in v.message]


@pytest.mark.parametrize("blur", [unknown_leaves, unknown_top_level], ids=["every-leaf", "every-property"])
def test_unknown_values_are_never_violations(real_plan, blur):
    stack, resources = real_plan
    assert evaluate(resources, stack) == []
    blurred = [Resource(r.type, r.name, blur(dict(r.props)), r.parent) for r in resources]
    assert evaluate(blurred, stack) == []


def test_resources_without_any_property_do_not_crash_a_rule(real_plan):
    _, resources = real_plan
    bare = [Resource(r.type, r.name, {}, r.parent) for r in resources]
    violations = evaluate(bare, "prod")
    assert crashes(violations) == []
    assert {v.policy for v in violations} >= {"bucket-uniform-access-and-public-prevention", "required-labels"}
