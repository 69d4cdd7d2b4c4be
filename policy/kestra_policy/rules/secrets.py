"""No secret in plain text where others can read it: instance metadata (readable with
compute.instances.get) and container environments beyond the stack's generated credentials."""
from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..config import integer, schema, setting, string_list
from ..props import elements, get, metadata_texts
from ..secret_scan import Finding, env_findings, key_material, literal_secrets

secrets_schema = schema(
    minGeneratedLength=integer(16, "A secret-named container variable's literal value is accepted as a generated "
                                   "credential only from this length (pulumi-random passwords).", 8),
    allowedEnvNames=string_list([], "Container variables never inspected (a team's documented exceptions)."),
)


def _metadata_findings(props: Any) -> list[Finding]:
    findings: list[Finding] = []
    for where, text in metadata_texts(props):
        findings += key_material(text, where)
        findings += literal_secrets(text, where, accept_generated=False, min_length=0)
    return findings


def _container_findings(props: Any, allowed: frozenset[str], min_length: int) -> list[Finding]:
    findings: list[Finding] = []
    for entry in elements(get(props, "envs")):
        if isinstance(entry, str):
            findings += env_findings(entry, "env", allowed, min_length)
    return findings


def validate_no_plaintext_secrets(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type in (t.INSTANCE, t.INSTANCE_TEMPLATE):
        findings = _metadata_findings(args.props)
    elif args.resource_type == t.CONTAINER:
        allowed = frozenset(setting(args, secrets_schema, "allowedEnvNames"))
        findings = _container_findings(args.props, allowed, setting(args, secrets_schema, "minGeneratedLength"))
    else:
        return
    for finding in dict.fromkeys(findings):
        report_violation(f"{finding}.")


no_plaintext_secrets = ResourceValidationPolicy(
    name="no-plaintext-secrets",
    description="No plaintext secret in instance metadata, nor in container environments beyond the generated credentials.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_no_plaintext_secrets,
    config_schema=secrets_schema,
    remediation_steps="Keep secrets in Secret Manager (the VM reads them at boot) or in generated pulumi-random "
    "credentials; reference them (${NAME}, {{ secret('NAME') }}) instead of writing values.",
)
