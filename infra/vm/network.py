"""The VM's private network: a dedicated VPC and subnet (Private Google Access for Secret Manager, GCS
and BigQuery), Cloud NAT for outbound image pulls and packages, and the only ingress rules."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.nat import create_nat

# Google's IAP TCP-forwarding range: `gcloud compute ssh --tunnel-through-iap` and
# `gcloud compute start-iap-tunnel` connect from here, after IAP has checked the caller's IAM.
IAP_RANGE = "35.235.240.0/20"
SSH_PORT = 22
SUBNET_RANGE = "10.42.0.0/24"


@dataclass(frozen=True)
class Ingress:
    """Who may reach the VM: IAP always (SSH and Kestra's port); with an external IP, the operators'
    own ranges on Kestra's port only."""

    kestra_port: int
    operator_cidrs: tuple[str, ...]


@dataclass(frozen=True)
class VmNetwork:
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    nat: gcp.compute.RouterNat  # the VM's only way out: its first boot needs it (packages, images)


def create_network(name: str, physical_name: str, region: str, ingress: Ingress,
                   target_service_account: pulumi.Input[str], parent: pulumi.Resource) -> VmNetwork:
    opts = pulumi.ResourceOptions(parent=parent)
    network = gcp.compute.Network(
        f"{name}-network", name=physical_name, auto_create_subnetworks=False,
        description="Kestra VM network (kestra-stack)", opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{name}-subnet", name=physical_name, region=region, network=network.id,
        ip_cidr_range=SUBNET_RANGE, private_ip_google_access=True, opts=opts)
    nat = create_nat(name, physical_name, region, network, subnet, opts)
    gcp.compute.Firewall(
        f"{name}-allow-iap", name=f"{physical_name}-allow-iap", network=network.id,
        direction="INGRESS", source_ranges=[IAP_RANGE],
        allows=[gcp.compute.FirewallAllowArgs(
            protocol="tcp", ports=[str(SSH_PORT), str(ingress.kestra_port)])],
        target_service_accounts=[target_service_account],
        description="SSH and Kestra's UI/API through Identity-Aware Proxy only", opts=opts)
    if ingress.operator_cidrs:
        gcp.compute.Firewall(
            f"{name}-allow-operators", name=f"{physical_name}-allow-operators", network=network.id,
            direction="INGRESS", source_ranges=list(ingress.operator_cidrs),
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[str(ingress.kestra_port)])],
            target_service_accounts=[target_service_account],
            description="Kestra's UI/API from the configured operator ranges (vmAllowedCidrs)",
            opts=opts)
    return VmNetwork(network=network, subnet=subnet, nat=nat)
