"""VmTarget: the service set on a Compute Engine VM.

The VM runs as the data lake's service account (Kestra's identity: no key is created for this target)
and that account also gets read access to exactly its own secrets. A shielded Debian VM without a public
IP (unless configured), a separate persistent data disk that outlives the VM, the stack's secrets in
Secret Manager, and a boot script that reconciles the VM on every boot (infra/vm/boot.sh).
Children are named `<name>-<role>`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from infra.services import PGADMIN, TAXI_POSTGRES
from infra.settings import Settings, VmSettings
from infra.targets import Endpoints, TargetArgs, secret_file_content
from infra.vm.access import LOCALHOST, VmAccess
from infra.vm.compose import NETWORK_NAME, kestra_host_port, render_compose
from infra.vm.network import Ingress, create_network
from infra.vm.secrets import create_secrets

BOOT_SCRIPT = Path(__file__).parent / "vm" / "boot.sh"
# Google's Debian 12 images run the guest agent, which runs `startup-script` on every boot (they do not
# run cloud-init). An image family, not a dated image: a new VM gets a patched image, and the family
# moving on never replaces a running VM.
BOOT_IMAGE = "debian-cloud/debian-12"
BOOT_DISK_GB = 20
DISK_TYPE = "pd-balanced"
DATA_DEVICE_NAME = "kestra-data"  # the boot script finds the disk at /dev/disk/by-id/google-kestra-data
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)  # IAM roles do the limiting
# What the VM itself needs besides the data lake's roles and its secrets: write its logs and metrics.
VM_PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")


def physical_name(stack: str) -> str:
    """`kestra-<stack>` as a valid Compute Engine name (lower-case letters, digits, '-')."""
    slug = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-") or "stack"
    return f"kestra-{slug}"[:40].rstrip("-")


def _published_port(args: TargetArgs, service: str) -> int:
    return args.services.service(service).ports[0].host_port


class VmTarget(pulumi.ComponentResource):
    endpoints: Endpoints
    # Outputs only this target has: how to open the tunnels, which VM, which identity.
    extra_outputs: Mapping[str, pulumi.Input[str]]

    def __init__(self, name: str, args: TargetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings: Settings = args.settings
        vm: VmSettings | None = settings.vm
        if vm is None or settings.gcp_project is None or args.data_lake is None or args.gcp_provider is None:
            raise ValueError("the vm target needs settings.vm, a GCP project, its GCP provider and the "
                             "data lake")
        # Every child (network, secrets, disk, VM, IAM) inherits the stack's explicit GCP provider.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[args.gcp_provider]))
        super().__init__("kestra-stack:vm_target:VmTarget", name, None, opts)
        project = settings.gcp_project
        child = pulumi.ResourceOptions(parent=self)
        vm_name = physical_name(pulumi.get_stack())
        labels = dict(settings.labels)
        identity = args.data_lake.service_account
        member = args.data_lake.service_account_member
        kestra_vm_port = kestra_host_port(args.services)

        roles = [
            gcp.projects.IAMMember(f"{name}-{role.split('/')[-1].replace('.', '-')}", project=project, role=role,
                                   member=member, opts=child)
            for role in VM_PROJECT_ROLES
        ]
        network = create_network(
            name, vm_name, settings.gcp_region,
            Ingress(kestra_vm_port, vm.allowed_cidrs if vm.external_ip else ()), identity.email, self)
        secrets = create_secrets(
            name, vm_name, project, {env_name: args.secrets[env_name] for env_name in args.services.env_secrets()},
            [(file, secret_file_content(file, args.secrets)) for file in args.services.secret_files()],
            identity.email, labels, self)

        data_disk = gcp.compute.Disk(
            f"{name}-data", name=f"{vm_name}-data", project=project, zone=vm.zone, type=DISK_TYPE,
            size=vm.data_disk_gb, labels=labels,
            deletion_policy="PREVENT" if settings.protect_data else "DELETE",
            opts=pulumi.ResourceOptions(parent=self, protect=settings.protect_data))

        access_configs = None
        external_address: pulumi.Output[str] | None = None
        if vm.external_ip:
            address = gcp.compute.Address(
                f"{name}-address", name=vm_name, project=project, region=settings.gcp_region,
                address_type="EXTERNAL", labels=labels, opts=child)
            external_address = address.address
            access_configs = [gcp.compute.InstanceNetworkInterfaceAccessConfigArgs(nat_ip=address.address)]

        instance = gcp.compute.Instance(
            f"{name}-instance", name=vm_name, project=project, zone=vm.zone,
            machine_type=vm.machine_type, labels=labels,
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                auto_delete=True,
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(
                    image=BOOT_IMAGE, size=BOOT_DISK_GB, type=DISK_TYPE)),
            attached_disks=[gcp.compute.InstanceAttachedDiskArgs(
                source=data_disk.name, device_name=DATA_DEVICE_NAME, mode="READ_WRITE")],
            network_interfaces=[gcp.compute.InstanceNetworkInterfaceArgs(
                subnetwork=network.subnet.id, access_configs=access_configs)],
            service_account=gcp.compute.InstanceServiceAccountArgs(email=identity.email, scopes=list(SCOPES)),
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True),
            metadata={
                "startup-script": BOOT_SCRIPT.read_text(),
                "kestra-compose": render_compose(args.services),
                "kestra-secrets": secrets.metadata_value(),
                "enable-oslogin": "TRUE",
                "block-project-ssh-keys": "TRUE",
            },
            allow_stopping_for_update=True,
            # At first boot the script installs packages through the NAT, reads the secrets and writes
            # logs: all of it must be in place by then.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[network.nat, *secrets.readable_after, *roles]))

        access = VmAccess(
            instance=vm_name, zone=vm.zone, project=project, kestra_vm_port=kestra_vm_port,
            tunnel_port=vm.tunnel_port, pgadmin_port=_published_port(args, PGADMIN),
            postgres_port=_published_port(args, TAXI_POSTGRES))
        kestra_url: pulumi.Input[str] = access.kestra_tunnel_url()
        if external_address is not None:
            kestra_url = pulumi.Output.concat("http://", external_address, f":{kestra_vm_port}")
        self.endpoints = Endpoints(
            kestra_url=kestra_url, pgadmin_url=access.pgadmin_url(),
            postgres_host=LOCALHOST,
            postgres_port=access.postgres_port,
            docker_network=NETWORK_NAME)
        self.extra_outputs = {
            "kestra_tunnel_command": access.kestra_tunnel_command(),
            "ssh_tunnel_command": access.ssh_tunnel_command(),
            "vm_instance": instance.name,
            "vm_zone": vm.zone,
            "vm_service_account": identity.email,
        }
        self.register_outputs({"instance": instance.name, "data_disk": data_disk.name})
