"""Cloud NAT for a private subnet: a router and its NAT, the only way out for machines without public
IPs (image pulls, packages, plugins). Every range of the subnet is translated: on GKE the pods' range
too. Used by the VM's and the GKE cluster's networks."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp


def create_nat(name: str, physical_name: str, region: str, network: gcp.compute.Network,
               subnet: gcp.compute.Subnetwork, opts: pulumi.ResourceOptions) -> gcp.compute.RouterNat:
    router = gcp.compute.Router(
        f"{name}-router", name=physical_name, region=region, network=network.id, opts=opts)
    return gcp.compute.RouterNat(
        f"{name}-nat", name=physical_name, router=router.name, region=region,
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[gcp.compute.RouterNatSubnetworkArgs(
            name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
        log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        opts=opts)
