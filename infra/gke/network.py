"""The cluster's private network: its own VPC and subnet (secondary ranges for pods and services,
Private Google Access), Cloud NAT for egress (image pulls, plugin downloads), and Private Service
Access for Cloud SQL's private IP (a VPC_PEERING range and the servicenetworking peering)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.nat import create_nat

NODE_RANGE = "10.60.0.0/20"
PODS_RANGE_NAME = "pods"
PODS_RANGE = "10.64.0.0/14"
SERVICES_RANGE_NAME = "services"
SERVICES_RANGE = "10.68.0.0/20"
# Where Google places the Cloud SQL instance (a /20 is the smallest range Google recommends for
# Private Service Access; /24 is the smallest it accepts).
SQL_PEERING_PREFIX = 20
SERVICE_NETWORKING = "servicenetworking.googleapis.com"


@dataclass(frozen=True)
class GkeNetwork:
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    nat: gcp.compute.RouterNat
    sql_peering: gcp.servicenetworking.Connection  # Cloud SQL's private IP needs it in place first


def create_network(name: str, physical_name: str, project: str, region: str,
                   opts: pulumi.ResourceOptions) -> GkeNetwork:
    network = gcp.compute.Network(
        f"{name}-network", name=physical_name, project=project, auto_create_subnetworks=False,
        description="Kestra on GKE (kestra-stack)", opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{name}-subnet", name=physical_name, project=project, region=region, network=network.id,
        ip_cidr_range=NODE_RANGE, private_ip_google_access=True,
        secondary_ip_ranges=[
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE_NAME, ip_cidr_range=PODS_RANGE),
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE_NAME,
                                                       ip_cidr_range=SERVICES_RANGE),
        ],
        opts=opts)
    nat = create_nat(name, physical_name, region, network, subnet, opts)
    sql_range = gcp.compute.GlobalAddress(
        f"{name}-sql-range", name=f"{physical_name}-sql", project=project, network=network.id,
        purpose="VPC_PEERING", address_type="INTERNAL", prefix_length=SQL_PEERING_PREFIX,
        description="Private Service Access range for Cloud SQL (kestra-stack)", opts=opts)
    # REMOVE_PEERING (pulumi-gcp >= 10.2, servicenetworking/connection.py): on destroy, if the API refuses
    # to delete the connection because Cloud SQL still uses it, the peering is removed from the network so
    # the network can be deleted. ABANDON would leave the peering, which blocks deleting the network.
    sql_peering = gcp.servicenetworking.Connection(
        f"{name}-sql-peering", network=network.id, service=SERVICE_NETWORKING,
        reserved_peering_ranges=[sql_range.name], deletion_policy="REMOVE_PEERING", opts=opts)
    return GkeNetwork(network=network, subnet=subnet, nat=nat, sql_peering=sql_peering)
