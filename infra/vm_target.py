"""KestraVm: the service set on a Compute Engine VM.

A dedicated service account, a shielded Debian VM without a public IP (unless configured), a separate
persistent data disk that outlives the VM, the stack's secrets in Secret Manager, and a boot script
that reconciles the VM on every boot (see boot.sh). Children are named `<name>-<role>`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from infra.vm.access import VmAccess
from infra.vm.network import Ingress, create_network
from infra.vm.secrets import create_secrets

BOOT_SCRIPT = Path(__file__).with_name("boot.sh")
# The GCE image family: Google's Debian 12 images run the guest agent, which runs `startup-script` on
# every boot. A family (not a dated image) keeps the VM patchable; the running VM is only replaced when
# its config changes, never because the family moved on.
BOOT_IMAGE = "debian-cloud/debian-12"
BOOT_DISK_GB = 20
DISK_TYPE = "pd-balanced"
DATA_DEVICE_NAME = "kestra-data"  # the boot script finds the disk at /dev/disk/by-id/google-kestra-data
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)  # IAM roles do the limiting
# What the VM itself needs besides its secrets: write its logs and metrics.
VM_PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")


@dataclass(frozen=True)
class KestraVmArgs:
    stack: str
    project: str
    region: str
    zone: str
    machine_type: str
    data_disk_gb: int
    external_ip: bool
    operator_cidrs: tuple[str, ...]
    tunnel_port: int
    protect_data: bool
    compose_yaml: str
    kestra_vm_port: int
    pgadmin_port: int
    postgres_port: int
    secret_values: Mapping[str, pulumi.Input[str]] = field(repr=False)
    labels: Mapping[str, str] = field(default_factory=dict)


def physical_name(stack: str) -> str:
    """`kestra-<stack>` as a valid Compute Engine name (lower-case letters, digits, '-')."""
    slug = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-") or "stack"
    return f"kestra-{slug}"[:40].rstrip("-")


def service_account_id(stack: str) -> str:
    return physical_name(stack).replace("kestra-", "kestra-vm-", 1)[:30].rstrip("-")


class KestraVm(pulumi.ComponentResource):
    service_account_email: pulumi.Output[str]
    instance_name: pulumi.Output[str]
    external_address: pulumi.Output[str] | None
    access: VmAccess

    def __init__(self, name: str, args: KestraVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kestra-stack:vm:KestraVm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vm_name = physical_name(args.stack)
        labels = dict(args.labels)

        account = gcp.serviceaccount.Account(
            f"{name}-sa", project=args.project, account_id=service_account_id(args.stack),
            display_name=f"Kestra VM ({args.stack})",
            description="Runs the Kestra VM; reads only its own secrets", opts=child)
        roles = [
            gcp.projects.IAMMember(
                f"{name}-{role.split('/')[-1]}", project=args.project, role=role,
                member=account.email.apply(lambda email: f"serviceAccount:{email}"), opts=child)
            for role in VM_PROJECT_ROLES
        ]
        network = create_network(
            name, vm_name, args.region,
            Ingress(args.kestra_vm_port, args.operator_cidrs if args.external_ip else ()),
            account.email, self)
        secrets = create_secrets(name, vm_name, args.project, args.secret_values, account.email, labels, self)

        data_disk = gcp.compute.Disk(
            f"{name}-data", name=f"{vm_name}-data", project=args.project, zone=args.zone, type=DISK_TYPE,
            size=args.data_disk_gb, labels=labels,
            deletion_policy="PREVENT" if args.protect_data else "DELETE",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_data))

        access_configs = None
        self.external_address = None
        if args.external_ip:
            address = gcp.compute.Address(
                f"{name}-address", name=vm_name, project=args.project, region=args.region,
                address_type="EXTERNAL", labels=labels, opts=child)
            self.external_address = address.address
            access_configs = [gcp.compute.InstanceNetworkInterfaceAccessConfigArgs(nat_ip=address.address)]

        instance = gcp.compute.Instance(
            f"{name}-instance", name=vm_name, project=args.project, zone=args.zone,
            machine_type=args.machine_type, labels=labels,
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                auto_delete=True,
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(
                    image=BOOT_IMAGE, size=BOOT_DISK_GB, type=DISK_TYPE)),
            attached_disks=[gcp.compute.InstanceAttachedDiskArgs(
                source=data_disk.self_link, device_name=DATA_DEVICE_NAME, mode="READ_WRITE")],
            network_interfaces=[gcp.compute.InstanceNetworkInterfaceArgs(
                subnetwork=network.subnet.id, access_configs=access_configs)],
            service_account=gcp.compute.InstanceServiceAccountArgs(
                email=account.email, scopes=list(SCOPES)),
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True),
            metadata={
                "startup-script": BOOT_SCRIPT.read_text(),
                "kestra-compose": args.compose_yaml,
                "kestra-secrets": secrets.metadata_value(),
                "enable-oslogin": "TRUE",
                "block-project-ssh-keys": "TRUE",
            },
            allow_stopping_for_update=True,
            # At first boot the script reads the secrets and writes logs: both must be allowed by then.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*secrets.readable_after, *roles]))

        self.service_account_email = account.email
        self.instance_name = instance.name
        self.access = VmAccess(
            instance=vm_name, zone=args.zone, project=args.project, kestra_vm_port=args.kestra_vm_port,
            tunnel_port=args.tunnel_port, pgadmin_port=args.pgadmin_port, postgres_port=args.postgres_port)
        self.register_outputs({
            "service_account_email": account.email,
            "instance_name": instance.name,
            "data_disk": data_disk.name,
        })
