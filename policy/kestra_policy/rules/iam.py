"""Least privilege: nothing public, no broad roles on the project, keys only where a target needs one."""
from __future__ import annotations

import json
import re
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy, StackValidationPolicy

from .. import types as t
from ..config import boolean, integer, schema, setting, string_list
from ..props import get, strings

_PUBLIC_MEMBER = re.compile(r"\b(allUsers|allAuthenticatedUsers)\b")
_PUBLIC_ACLS = frozenset({"publicRead", "publicReadWrite", "authenticatedRead"})
# Resources granting access: every IAM member/binding/policy, ACL and access-control type (any provider
# version's), and the dataset, whose `accesses` list grants access too.
_GRANT_TYPE = re.compile(r"(?i)iam|acl|accesscontrol|datasetaccess")


def _public_grantee(path: tuple[str | int, ...], value: str) -> str | None:
    found = _PUBLIC_MEMBER.search(value)  # also inside a policy document (policyData JSON)
    if found:
        return found.group(1)
    if path and path[-1] in ("predefinedAcl", "defaultAcl") and value in _PUBLIC_ACLS:
        return value
    return None


def validate_no_public_members(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.DATASET and not _GRANT_TYPE.search(args.resource_type):
        return
    reported: set[str] = set()
    for path, value in strings(args.props):
        member = _public_grantee(path, value)
        if member and member not in reported:
            reported.add(member)
            where = ".".join(str(p) for p in path)
            report_violation(f"{where} grants access to {member}: anyone on the internet could read or change data.")


no_public_members = ResourceValidationPolicy(
    name="no-public-members",
    description="No IAM binding, ACL or dataset access grants allUsers or allAuthenticatedUsers.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_no_public_members,
    remediation_steps="Grant the role to the service account or group that needs it instead of allUsers/allAuthenticatedUsers.",
)


project_roles_schema = schema(
    forbiddenRoles=string_list(["roles/owner", "roles/editor", "roles/viewer"], "Roles never granted at project level."),
    forbidAdminRoles=boolean(True, "Also refuse every predefined */admin role (roles/storage.admin, roles/iam.securityAdmin, …) at project level."),
    allowedRoles=string_list([], "Exceptions: roles allowed at project level even if matched above."),
)
_ADMIN_ROLE = re.compile(r"(?i)^roles/.*admin$")


def _project_roles(args: Any) -> list[Any]:
    if args.resource_type in (t.PROJECT_IAM_MEMBER, t.PROJECT_IAM_BINDING):
        return [get(args.props, "role")]
    if args.resource_type == t.PROJECT_IAM_POLICY:
        document = get(args.props, "policyData")
        if not isinstance(document, str):
            return []
        try:
            bindings = json.loads(document).get("bindings", [])
        except (ValueError, AttributeError):
            return []
        return [binding.get("role") for binding in bindings if isinstance(binding, dict)]
    return []


def validate_project_roles(args: Any, report_violation: ReportViolation) -> None:
    forbidden = set(setting(args, project_roles_schema, "forbiddenRoles"))
    forbid_admin = setting(args, project_roles_schema, "forbidAdminRoles")
    allowed = set(setting(args, project_roles_schema, "allowedRoles"))
    for role in _project_roles(args):
        if not isinstance(role, str) or role in allowed:
            continue
        if role in forbidden:
            report_violation(f"{role} is granted on the whole project: a basic role is far broader than any task here needs.")
        elif forbid_admin and _ADMIN_ROLE.match(role):
            report_violation(f"{role} is an admin role granted on the whole project.")


no_broad_project_roles = ResourceValidationPolicy(
    name="no-broad-project-roles",
    description="No owner, editor, viewer or admin role is granted at project level.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_project_roles,
    config_schema=project_roles_schema,
    remediation_steps="Grant narrow roles on the bucket, dataset or secret itself; at project level only what has no "
    "resource-level form (roles/bigquery.jobUser).",
)


keys_schema = schema(maxKeys=integer(1, "Service-account keys a stack may create (the Docker target needs one)."))


def validate_service_account_keys(args: Any, report_violation: ReportViolation) -> None:
    keys = [r for r in args.resources if r.resource_type == t.SERVICE_ACCOUNT_KEY]
    if not keys:
        return
    runs_on_vm = any(r.resource_type in (t.INSTANCE, t.INSTANCE_TEMPLATE) for r in args.resources)
    runs_on_docker = any(r.resource_type == t.CONTAINER for r in args.resources)
    for key in keys:
        if runs_on_vm:
            report_violation(f"key {key.name}: on a VM, Kestra authenticates as the VM's service account; a key is "
                             "a long-lived credential that can leak.", key.urn)
        elif not runs_on_docker:
            report_violation(f"key {key.name}: no target in this stack uses it.", key.urn)
    max_keys = setting(args, keys_schema, "maxKeys")
    if len(keys) > max_keys:
        report_violation(f"{len(keys)} service-account keys are created; at most {max_keys} expected.")


service_account_keys = StackValidationPolicy(
    name="service-account-keys-only-where-needed",
    description="Service-account keys are created only for a target that needs one (local Docker).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_service_account_keys,
    config_schema=keys_schema,
    remediation_steps="On the VM target let Kestra use the VM's service account; create a key only for the Docker target.",
)
