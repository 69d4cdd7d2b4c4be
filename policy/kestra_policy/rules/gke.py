"""GKE clusters and node pools: private nodes, Workload Identity, a dedicated node identity, shielded
nodes, no legacy authentication, and a control plane that is not open on a public IP.

Defaults these rules rely on (pulumi-gcp 10.2.0 container/cluster.py and node_pool.py docs): private
nodes are off unless `private_cluster_config.enable_private_nodes` (or the pool's
`network_config.enable_private_nodes`); a node config without `service_account` runs as the default
compute service account; `enable_shielded_nodes` defaults to true; the IP endpoints are on unless
`control_plane_endpoints_config.ip_endpoints_config.enabled` is false, and public unless
`private_cluster_config.enable_private_endpoint`. An Autopilot cluster always has Workload Identity
and shielded nodes.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..props import UNKNOWN, as_bool, elements, get
from .vm import _DEFAULT_COMPUTE_ACCOUNT

_GKE = (t.GKE_CLUSTER, t.GKE_NODE_POOL)


def _autopilot(args: Any) -> Any:
    return args.resource_type == t.GKE_CLUSTER and as_bool(get(args.props, "enableAutopilot")) is True


def _node_configs(args: Any) -> list[tuple[str, Any]]:
    """(where, node config) of the nodes a resource defines: a pool's own, or a Standard cluster's default
    pool (created even when removed right after); Autopilot defines none."""
    if args.resource_type not in _GKE or _autopilot(args):
        return []
    return [("nodeConfig", get(args.props, "nodeConfig"))]


def validate_private_nodes(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type == t.GKE_CLUSTER:
        private = as_bool(get(args.props, "privateClusterConfig", "enablePrivateNodes"))
        if private is not UNKNOWN and private is not True:
            report_violation("privateClusterConfig.enablePrivateNodes is not true: every node gets a public IP.")
    elif args.resource_type == t.GKE_NODE_POOL:
        if as_bool(get(args.props, "networkConfig", "enablePrivateNodes")) is False:
            report_violation("networkConfig.enablePrivateNodes is false: this pool's nodes get public IPs.")


gke_private_nodes = ResourceValidationPolicy(
    name="gke-private-nodes",
    description="GKE nodes have no public IP (private nodes; egress through Cloud NAT).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_private_nodes,
    remediation_steps="Set private_cluster_config.enable_private_nodes true and give the subnet a Cloud NAT.",
)


def validate_workload_identity(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type not in _GKE or _autopilot(args):
        return
    if args.resource_type == t.GKE_CLUSTER:
        pool = get(args.props, "workloadIdentityConfig", "workloadPool")
        if pool is not UNKNOWN and not pool:
            report_violation("workloadIdentityConfig.workloadPool is not set: pods can only act as the node's "
                             "service account, or with a key.")
    for where, config in _node_configs(args):
        mode = get(config, "workloadMetadataConfig", "mode")
        if mode not in (None, UNKNOWN, "GKE_METADATA"):
            report_violation(f"{where}.workloadMetadataConfig.mode is {mode}: pods would reach the node's "
                             "metadata server and its identity.")


gke_workload_identity = ResourceValidationPolicy(
    name="gke-workload-identity",
    description="GKE clusters use Workload Identity and node pools the GKE metadata server.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_workload_identity,
    remediation_steps="Set workload_identity_config.workload_pool to <project>.svc.id.goog and the node pools' "
    "workload_metadata_config.mode to GKE_METADATA.",
)


def _check_account(where: str, account: Any, report_violation: ReportViolation) -> None:
    if account is UNKNOWN:
        return  # a dedicated account created in the same run: its e-mail is unknown in a preview
    if not account:
        report_violation(f"{where}.serviceAccount is not set, so the nodes run as the default compute service "
                         "account (Editor on the project by default).")
    elif isinstance(account, str) and _DEFAULT_COMPUTE_ACCOUNT.match(account):
        report_violation(f"{where}.serviceAccount is the default compute service account ({account}).")


def validate_node_service_account(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type not in _GKE:
        return
    if _autopilot(args):
        defaults = get(args.props, "clusterAutoscaling", "autoProvisioningDefaults")
        if defaults is not UNKNOWN:
            _check_account("clusterAutoscaling.autoProvisioningDefaults", get(defaults, "serviceAccount"),
                           report_violation)
        return
    for where, config in _node_configs(args):
        if config is not UNKNOWN:
            _check_account(where, get(config, "serviceAccount"), report_violation)


gke_node_service_account = ResourceValidationPolicy(
    name="gke-node-service-account",
    description="GKE nodes run as a dedicated service account, never the default compute service account.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_node_service_account,
    remediation_steps="Create a service account holding only the logging and monitoring roles and set it as the "
    "node config's (Autopilot: auto_provisioning_defaults') service_account.",
)


def validate_shielded_nodes(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type not in _GKE or _autopilot(args):
        return
    if args.resource_type == t.GKE_CLUSTER and as_bool(get(args.props, "enableShieldedNodes")) is False:
        report_violation("enableShieldedNodes is false.")
    for where, config in _node_configs(args):
        if as_bool(get(config, "shieldedInstanceConfig", "enableSecureBoot")) is False:
            report_violation(f"{where}.shieldedInstanceConfig.enableSecureBoot is false.")
        if as_bool(get(config, "shieldedInstanceConfig", "enableIntegrityMonitoring")) is False:
            report_violation(f"{where}.shieldedInstanceConfig.enableIntegrityMonitoring is false.")


gke_shielded_nodes = ResourceValidationPolicy(
    name="gke-shielded-nodes",
    description="GKE nodes are Shielded VMs with secure boot and integrity monitoring.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_shielded_nodes,
    remediation_steps="Leave enable_shielded_nodes on and set the node configs' shielded_instance_config with "
    "enable_secure_boot and enable_integrity_monitoring true.",
)


def validate_no_legacy_auth(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.GKE_CLUSTER:
        return
    if as_bool(get(args.props, "enableLegacyAbac")) is True:
        report_violation("enableLegacyAbac is true: ABAC grants permissions beside RBAC.")
    auth = get(args.props, "masterAuth")
    if as_bool(get(auth, "clientCertificateConfig", "issueClientCertificate")) is True:
        report_violation("masterAuth.clientCertificateConfig.issueClientCertificate is true: a long-lived "
                         "admin client certificate is issued.")
    for field in ("username", "password"):
        if isinstance(get(auth, field), str) and get(auth, field):
            report_violation(f"masterAuth.{field} is set: basic authentication to the control plane.")


gke_no_legacy_auth = ResourceValidationPolicy(
    name="gke-no-legacy-auth",
    description="GKE clusters use IAM and RBAC only: no legacy ABAC, basic auth or client certificate.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_no_legacy_auth,
    remediation_steps="Set enable_legacy_abac false and master_auth.client_certificate_config.issue_client_certificate "
    "false; do not set a master_auth username or password.",
)


def _ip_endpoint_public(props: Any) -> Any:
    """Whether the control plane answers on a public IP: UNKNOWN when that cannot be told yet."""
    enabled = as_bool(get(props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled"))
    if enabled is False:
        return False
    private_endpoint = as_bool(get(props, "privateClusterConfig", "enablePrivateEndpoint"))
    if enabled is UNKNOWN or private_endpoint is UNKNOWN:
        return UNKNOWN
    return private_endpoint is not True


def validate_control_plane(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.GKE_CLUSTER or _ip_endpoint_public(args.props) is not True:
        return
    networks = get(args.props, "masterAuthorizedNetworksConfig")
    if networks is UNKNOWN:
        return
    blocks = [get(block, "cidrBlock") for block in elements(get(networks, "cidrBlocks"))]
    if UNKNOWN in blocks:
        return
    if networks is None or not blocks:
        report_violation("the control plane has a public IP endpoint and no authorised networks: anyone on the "
                         "internet can reach the Kubernetes API.")
    for cidr in blocks:
        try:
            if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
                report_violation(f"authorised network {cidr} opens the control plane to the whole internet.")
        except ValueError:
            pass


gke_control_plane_not_public = ResourceValidationPolicy(
    name="gke-control-plane-not-public",
    description="The GKE control plane is not on a public IP without authorised networks.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_control_plane,
    remediation_steps="Use the DNS-based endpoint with the IP endpoints disabled (control_plane_endpoints_config), "
    "or a private endpoint, or list your operators' ranges in master_authorized_networks_config.",
)
