"""Data survives a careless `pulumi destroy` on every stack that is not declared disposable."""
from __future__ import annotations

import fnmatch
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..config import schema, setting, string_list
from ..props import UNKNOWN, as_bool, get
from ..stack import current_stack

protection_schema = schema(
    disposableStacks=string_list(["dev"], "Stacks (glob patterns) whose data may be destroyed with them; every other "
                                          "stack must protect its data."),
)


def _disk_protected(args: Any) -> Any:
    policy = get(args.props, "deletionPolicy")
    if policy is UNKNOWN:
        return UNKNOWN
    protected_by_option = bool(getattr(getattr(args, "opts", None), "protect", False))
    return protected_by_option or policy == "PREVENT"


def validate_data_protected(args: Any, report_violation: ReportViolation) -> None:
    stack = current_stack()
    if stack and any(fnmatch.fnmatchcase(stack, pattern) for pattern in setting(args, protection_schema, "disposableStacks")):
        return
    if args.resource_type == t.BUCKET and as_bool(get(args.props, "forceDestroy")) is True:
        report_violation("forceDestroy is true: destroying the stack deletes every object in the bucket.")
    elif args.resource_type == t.DATASET and as_bool(get(args.props, "deleteContentsOnDestroy")) is True:
        report_violation("deleteContentsOnDestroy is true: destroying the stack drops every table in the dataset.")
    elif args.resource_type == t.DISK and _disk_protected(args) is False:
        report_violation("the data disk can be deleted: neither deletionPolicy 'PREVENT' nor the protect option is set.")
    elif args.resource_type == t.SQL_INSTANCE:
        # deletionProtection guards it in Pulumi (pulumi-gcp defaults it to true); the setting guards it on every
        # surface (console, gcloud, API) and defaults to false.
        if as_bool(get(args.props, "deletionProtection")) is False:
            report_violation("deletionProtection is false: destroying the stack deletes the database instance.")
        everywhere = as_bool(get(args.props, "settings", "deletionProtectionEnabled"))
        if everywhere is not UNKNOWN and everywhere is not True:
            report_violation("settings.deletionProtectionEnabled is not true: the instance can be deleted from the "
                             "console, gcloud or the API.")


data_protected = ResourceValidationPolicy(
    name="data-protected",
    description="Outside disposable stacks, data is protected: no force_destroy on buckets, dataset contents kept, "
    "data disks and Cloud SQL instances protected from deletion.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_data_protected,
    config_schema=protection_schema,
    remediation_steps="Set kestra-stack:protectData true for this stack, or list the stack in this policy's "
    "disposableStacks if its data is meant to go with it.",
)
