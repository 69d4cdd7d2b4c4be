"""Plain-dict stack config for settings tests: Pulumi.yaml's defaults plus a stack file, the way
the Pulumi CLI merges them (the same loader plan_stack uses)."""

from __future__ import annotations

import string

from infra.offline import load_stack_config

GCP_PROJECT = "zoomcamp-test-123"
# Kestra's password rule (>= 8 characters, upper, lower, digit) allows every ASCII punctuation character
# and spaces; string.punctuation's order has no "${", which Micronaut would read as a placeholder.
PUNCTUATION_PASSWORD = "Aa1 " + string.punctuation + " z9"


def raw_config(stack: str = "dev", **overrides: str) -> dict[str, str]:
    values, _ = load_stack_config(stack)
    values.update(overrides)
    return values


def vm_raw_config(**overrides: str) -> dict[str, str]:
    """The dev config switched to the vm target (independent of whether Pulumi.prod.yaml exists)."""
    return raw_config(target="vm", gcpProject=GCP_PROJECT, **overrides)
