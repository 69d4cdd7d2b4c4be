"""The policy pack: its name and every policy, in the order reports list them."""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from .rules import data, docker, iam, labels, secrets, storage, vm

NAME = "kestra-stack-policies"
DESCRIPTION = "Guards for the Kestra stack: private data lake, least privilege, pinned images, private VM, no plaintext secrets."
DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY

POLICIES: list[Policy] = [
    storage.bucket_access,
    iam.no_public_members,
    iam.no_broad_project_roles,
    iam.service_account_keys,
    docker.images_pinned,
    docker.ports_on_localhost,
    vm.vm_public_ip_restricted,
    vm.firewall_no_open_ingress,
    vm.vm_shielded,
    vm.vm_dedicated_service_account,
    secrets.no_plaintext_secrets,
    data.data_protected,
    labels.required_labels,
    storage.same_location,
]
