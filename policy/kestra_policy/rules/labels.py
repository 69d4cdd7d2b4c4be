"""Every labelable resource says which environment and which application it belongs to."""
from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..config import boolean, schema, setting, string_list
from ..props import UNKNOWN, elements, entries, get

labels_schema = schema(
    labels=string_list(["env", "app"], "Labels every labelable resource carries, with a non-empty value."),
    includeDocker=boolean(False, "Also require them on Docker containers, volumes and networks."),
)


def _present_labels(args: Any) -> Any:
    labels = get(args.props, "labels")
    if labels is UNKNOWN:
        return UNKNOWN
    if args.resource_type in t.GCP_LABELLED:
        return {key: value for key, value in entries(labels)}
    present: dict[str, Any] = {}
    for item in elements(labels):
        name = get(item, "label")
        if isinstance(name, str):
            present[name] = get(item, "value")
    return present


def validate_labels(args: Any, report_violation: ReportViolation) -> None:
    docker = setting(args, labels_schema, "includeDocker")
    if args.resource_type not in t.GCP_LABELLED and not (docker and args.resource_type in t.DOCKER_LABELLED):
        return
    present = _present_labels(args)
    if present is UNKNOWN:
        return
    missing = [name for name in setting(args, labels_schema, "labels")
               if name not in present or (present[name] is not UNKNOWN and not present[name])]
    if missing:
        report_violation(f"missing label(s) {', '.join(missing)}.")


required_labels = ResourceValidationPolicy(
    name="required-labels",
    description="Labelable resources carry the labels env and app.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_labels,
    config_schema=labels_schema,
    remediation_steps="List env=<stack> and app=<name> in kestra-stack:labels (applied to every labelled GCP resource).",
)
