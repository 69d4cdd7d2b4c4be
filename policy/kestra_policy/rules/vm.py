"""The Compute Engine target: reachable only by its operators, shielded, with its own service account."""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy, StackValidationPolicy

from .. import types as t
from ..config import integer, schema, setting, string_list
from ..props import UNKNOWN, as_bool, elements, get

_VM_TYPES = (t.INSTANCE, t.INSTANCE_TEMPLATE)


def _admits_ingress(firewall_props: Any) -> bool:
    """An enabled ingress rule (GCP's default direction is INGRESS; an unknown one is assumed to be)."""
    direction = get(firewall_props, "direction")
    ingress = direction in (None, UNKNOWN) or str(direction).upper() == "INGRESS"
    return ingress and as_bool(get(firewall_props, "disabled")) is not True


def _prefix_length(cidr: str) -> int | None:
    """The range's prefix length (0 for every address); None when `cidr` is not a CIDR."""
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen
    except ValueError:
        return None


def _source_ranges(firewall_props: Any) -> Any:
    """The firewall's sources: a list of CIDRs, UNKNOWN, or ['0.0.0.0/0'] when GCP would default to it."""
    ranges = get(firewall_props, "sourceRanges")
    if ranges is UNKNOWN:
        return UNKNOWN
    listed = elements(ranges)
    if UNKNOWN in listed:
        return UNKNOWN
    if not listed and not elements(get(firewall_props, "sourceTags")) and not elements(get(firewall_props, "sourceServiceAccounts")):
        return ["0.0.0.0/0"]  # an ingress rule with no source at all applies to every address
    return [r for r in listed if isinstance(r, str)]


firewall_schema = schema(
    forbiddenSourceRanges=string_list(["0.0.0.0/0", "::/0"], "Source ranges no ingress rule may allow."),
)


def validate_firewall(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.FIREWALL or not _admits_ingress(args.props):
        return
    forbidden = set(setting(args, firewall_schema, "forbiddenSourceRanges"))
    sources = _source_ranges(args.props)
    if sources is UNKNOWN:
        return
    for cidr in sources:
        if cidr in forbidden or _prefix_length(cidr) == 0:
            explicit = cidr in elements(get(args.props, "sourceRanges"))
            origin = "" if explicit else " (no source given, so GCP applies it to every address)"
            report_violation(f"ingress is allowed from {cidr}{origin}: the whole internet can reach these ports.")


firewall_no_open_ingress = ResourceValidationPolicy(
    name="firewall-no-open-ingress",
    description="No ingress firewall rule is open to 0.0.0.0/0 (or ::/0).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_firewall,
    config_schema=firewall_schema,
    remediation_steps="Allow only IAP's range 35.235.240.0/20, or list your operators' CIDRs in kestra-stack:vmAllowedCidrs.",
)


def _has_external_ip(instance_props: Any) -> Any:
    interfaces = elements(get(instance_props, "networkInterfaces"))
    if UNKNOWN in interfaces:
        return UNKNOWN
    verdicts = []
    for interface in interfaces:
        access = get(interface, "accessConfigs")
        verdicts.append(UNKNOWN if access is UNKNOWN else bool(elements(access)))
    if True in verdicts:
        return True
    return UNKNOWN if UNKNOWN in verdicts else False


def _applies_to(firewall_props: Any, instance_props: Any) -> bool:
    """Whether an ingress rule reaches the instance: by target tag or target service account; when either
    side is unknown, assume it does."""
    target_tags = elements(get(firewall_props, "targetTags"))
    target_accounts = elements(get(firewall_props, "targetServiceAccounts"))
    if target_tags:
        instance_tags = elements(get(instance_props, "tags"))
        return UNKNOWN in target_tags or UNKNOWN in instance_tags or bool(set(target_tags) & set(instance_tags))
    if target_accounts:
        email = get(instance_props, "serviceAccount", "email")
        return UNKNOWN in target_accounts or email is UNKNOWN or email in target_accounts
    return True


public_ip_schema = schema(
    minPrefixLength=integer(16, "The widest source range (as a prefix length) an ingress rule may allow to a VM with a public IP.", 1),
)


def validate_public_ip_restricted(args: Any, report_violation: ReportViolation) -> None:
    min_prefix = setting(args, public_ip_schema, "minPrefixLength")
    firewalls = [r for r in args.resources if r.resource_type == t.FIREWALL and _admits_ingress(r.props)]
    for vm in (r for r in args.resources if r.resource_type in _VM_TYPES):
        if _has_external_ip(vm.props) is not True:
            continue
        for firewall in firewalls:
            if not _applies_to(firewall.props, vm.props):
                continue
            sources = _source_ranges(firewall.props)
            if sources is UNKNOWN:
                continue
            for cidr in sources:
                prefix = _prefix_length(cidr)
                if prefix is not None and prefix < min_prefix:
                    report_violation(f"VM {vm.name} has a public IP and firewall {firewall.name} admits {cidr}, wider "
                                     f"than /{min_prefix}.", vm.urn)


vm_public_ip_restricted = StackValidationPolicy(
    name="vm-public-ip-restricted",
    description="A VM has no public IP, or its ingress is restricted to narrow, configured CIDRs.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_public_ip_restricted,
    config_schema=public_ip_schema,
    remediation_steps="Keep kestra-stack:vmExternalIp false and use the IAP tunnel; if you need a public IP, list only "
    "your operators' addresses in kestra-stack:vmAllowedCidrs.",
)


def validate_shielded(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type not in _VM_TYPES:
        return
    config = get(args.props, "shieldedInstanceConfig")
    if config is UNKNOWN:
        return
    secure_boot = as_bool(get(config, "enableSecureBoot"))
    if secure_boot is not UNKNOWN and secure_boot is not True:
        report_violation("shieldedInstanceConfig.enableSecureBoot is not true (GCE's default is off).")
    for setting_name in ("enableVtpm", "enableIntegrityMonitoring"):
        if as_bool(get(config, setting_name)) is False:
            report_violation(f"shieldedInstanceConfig.{setting_name} is false.")


vm_shielded = ResourceValidationPolicy(
    name="vm-shielded",
    description="VMs are Shielded VMs: secure boot, vTPM and integrity monitoring on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_shielded,
    remediation_steps="Set shielded_instance_config with enable_secure_boot, enable_vtpm and enable_integrity_monitoring "
    "true, on an image that supports Shielded VM.",
)


_DEFAULT_COMPUTE_ACCOUNT = re.compile(r"^(default|\d+-compute@developer\.gserviceaccount\.com)$")


def validate_dedicated_service_account(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type not in _VM_TYPES:
        return
    account = get(args.props, "serviceAccount")
    if account is UNKNOWN:
        return
    email = get(account, "email")
    if email is UNKNOWN:
        return  # the dedicated account is created in the same run, so its e-mail is not known in a preview
    if account is None or email is None:
        report_violation("no service account e-mail is set, so GCE attaches the default compute service account.")
    elif isinstance(email, str) and _DEFAULT_COMPUTE_ACCOUNT.match(email):
        report_violation(f"the VM runs as the default compute service account ({email}), which holds Editor on the project by default.")


vm_dedicated_service_account = ResourceValidationPolicy(
    name="vm-dedicated-service-account",
    description="VMs run as a dedicated service account, never the default compute service account.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_dedicated_service_account,
    remediation_steps="Create a service account for the VM and set service_account.email to it (scope cloud-platform, "
    "with access granted by IAM roles on the bucket, dataset and secrets).",
)
