"""The GKE cluster, its node pool and node identity, and the kubeconfig that reaches it.

Control-plane access: GKE's DNS-based endpoint (`control_plane_endpoints_config`, pulumi-gcp >= 8.10)
with the IP endpoints switched off. Every request goes through Google's front end, which checks the
caller's IAM (`container.clusters.connect`) before Kubernetes RBAC, so nothing listens on a public IP,
no authorised-network list has to follow a laptop's address, and no bastion or VPN is needed. Nodes
are private (no public IPs) and reach the internet through the network's Cloud NAT.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.gke.network import PODS_RANGE_NAME, SERVICES_RANGE_NAME, GkeNetwork
from infra.gke.settings import GkeSettings

RELEASE_CHANNEL = "REGULAR"
# What GKE nodes need and no more (GKE's hardening guide, "least privilege service account"): write
# logs and metrics, read metrics for the autoscaler's dashboards, write resource metadata.
NODE_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
              "roles/stackdriver.resourceMetadata.writer")
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)  # IAM roles do the limiting
# Containerd on Container-Optimized OS. With the Docker task runner on, the node pool runs Ubuntu with
# containerd instead: the chart's Docker-in-Docker sidecar runs a Docker engine inside the pod, which
# the general-purpose Ubuntu image is the safer host for (whether COS runs it was not verified).
IMAGE_TYPE = "COS_CONTAINERD"
DIND_IMAGE_TYPE = "UBUNTU_CONTAINERD"
NODE_DISK_GB = 50
# GKE's metadata server on each node: pods get their Kubernetes service account's Google identity
# (Workload Identity) and never the node's.
WORKLOAD_METADATA = "GKE_METADATA"


@dataclass(frozen=True)
class GkeCluster:
    cluster: gcp.container.Cluster
    node_pool: gcp.container.NodePool | None  # Autopilot manages its own nodes
    node_service_account: gcp.serviceaccount.Account
    endpoint: pulumi.Output[str]  # the DNS-based control-plane endpoint's host name


def node_account_id(physical_name: str) -> str:
    """A service-account id (at most 30 characters) that keeps its `-nodes` suffix, so a long stack name
    cannot truncate it into the data lake's account id (`kestra-<stack>`, cut at 30)."""
    return f"{physical_name[:24].rstrip('-')}-nodes"


def workload_pool(project: str) -> str:
    return f"{project}.svc.id.goog"


def _node_config(gke: GkeSettings, email: pulumi.Input[str], dind: bool, labels: dict[str, str]
                 ) -> gcp.container.NodePoolNodeConfigArgs:
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=gke.machine_type, disk_size_gb=NODE_DISK_GB, disk_type="pd-balanced",
        image_type=DIND_IMAGE_TYPE if dind else IMAGE_TYPE,
        service_account=email, oauth_scopes=list(SCOPES), resource_labels=labels,
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True),
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode=WORKLOAD_METADATA),
        metadata={"disable-legacy-endpoints": "true"},
    )


def create_cluster(name: str, physical_name: str, project: str, gke: GkeSettings, network: GkeNetwork,
                   dind: bool, labels: dict[str, str], opts: pulumi.ResourceOptions) -> GkeCluster:
    account = gcp.serviceaccount.Account(
        f"{name}-nodes", account_id=node_account_id(physical_name), project=project,
        display_name="GKE nodes (kestra-stack): logs and metrics only", opts=opts)
    member = account.email.apply(lambda email: f"serviceAccount:{email}")
    roles = [gcp.projects.IAMMember(f"{name}-nodes-{role.split('/')[-1].replace('.', '-')}", project=project,
                                    role=role, member=member, opts=opts)
             for role in NODE_ROLES]
    autopilot = gke.mode == "autopilot"
    common = dict(
        name=physical_name, project=project, location=gke.location,
        network=network.network.id, subnetwork=network.subnet.id, networking_mode="VPC_NATIVE",
        ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
            cluster_secondary_range_name=PODS_RANGE_NAME, services_secondary_range_name=SERVICES_RANGE_NAME),
        # enable_private_endpoint is not sent while the IP endpoints are off (expandControlPlaneEndpointsConfig
        # returns early), but the API then reports it true and the provider reads it back: left false, it
        # diffs at every `up` unless the provider has the suppression added after v7.45.0
        # (terraform-provider-google eea306e0a1, #28981; its acceptance test notes the API-dictated value).
        private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
            enable_private_nodes=True, enable_private_endpoint=True),
        control_plane_endpoints_config=gcp.container.ClusterControlPlaneEndpointsConfigArgs(
            dns_endpoint_config=gcp.container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
                allow_external_traffic=True),
            ip_endpoints_config=gcp.container.ClusterControlPlaneEndpointsConfigIpEndpointsConfigArgs(
                enabled=False)),
        release_channel=gcp.container.ClusterReleaseChannelArgs(channel=RELEASE_CHANNEL),
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=workload_pool(project)),
        enable_legacy_abac=False,
        master_auth=gcp.container.ClusterMasterAuthArgs(
            client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                issue_client_certificate=False)),
        resource_labels=labels,
        # The cluster holds no data (Cloud SQL and GCS do): `pulumi destroy` may delete it.
        # pulumi-gcp defaults deletion_protection to true, which would make destroy fail.
        deletion_protection=False,
    )
    # The nodes' first boot pulls images through the NAT and writes logs: both must be in place.
    cluster_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[network.nat, *roles]))
    if autopilot:
        cluster = gcp.container.Cluster(
            f"{name}-cluster", enable_autopilot=True,
            cluster_autoscaling=gcp.container.ClusterClusterAutoscalingArgs(
                auto_provisioning_defaults=gcp.container.ClusterClusterAutoscalingAutoProvisioningDefaultsArgs(
                    service_account=account.email, oauth_scopes=list(SCOPES))),
            **common, opts=cluster_opts)
        node_pool = None
    else:
        node_config = _node_config(gke, account.email, dind, labels)
        cluster = gcp.container.Cluster(
            f"{name}-cluster", enable_shielded_nodes=True,
            # GKE cannot create a cluster without a node pool: the smallest default pool is created with
            # the same node identity and removed at once; the pool below is managed on its own.
            remove_default_node_pool=True, initial_node_count=1,
            node_config=gcp.container.ClusterNodeConfigArgs(
                machine_type=gke.machine_type, service_account=account.email, oauth_scopes=list(SCOPES),
                image_type=IMAGE_TYPE,
                shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True),
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(
                    mode=WORKLOAD_METADATA)),
            **common, opts=pulumi.ResourceOptions.merge(cluster_opts, pulumi.ResourceOptions(
                # The provider reads node_config back from the API's cluster.nodeConfig, which is the first
                # node pool's once the default pool is gone, and sends a change of it to a "default-pool"
                # that no longer exists (terraform-provider-google resource_container_cluster.go at
                # e03b762: d.Set("node_config", flattenNodeConfig(cluster.NodeConfig, …)); on change,
                # nodePoolNodeConfigUpdate(…, "default-pool", …)). It only matters at creation.
                ignore_changes=["nodeConfig", "initialNodeCount"])))
        node_pool = gcp.container.NodePool(
            f"{name}-pool", name=f"{physical_name}-pool"[:40], project=project, location=gke.location,
            cluster=cluster.name, initial_node_count=gke.min_nodes,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                min_node_count=gke.min_nodes, max_node_count=gke.max_nodes),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=node_config, opts=opts)
    endpoint = cluster.control_plane_endpoints_config.apply(_dns_endpoint)
    return GkeCluster(cluster=cluster, node_pool=node_pool, node_service_account=account, endpoint=endpoint)


def _dns_endpoint(config: object) -> str:
    dns = getattr(config, "dns_endpoint_config", None) if config is not None else None
    return getattr(dns, "endpoint", None) or ""
