"""The policy pack: its name and every policy, in the order reports list them."""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from .rules import cloudsql, data, docker, gke, iam, kubernetes, labels, secrets, storage, vm

NAME = "kestra-stack-policies"
DESCRIPTION = ("Guards for the Kestra stack: private data lake, least privilege, pinned images, private VM, private "
               "GKE and Cloud SQL, no plaintext secrets.")
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
    gke.gke_private_nodes,
    gke.gke_workload_identity,
    gke.gke_node_service_account,
    gke.gke_shielded_nodes,
    gke.gke_no_legacy_auth,
    gke.gke_control_plane_not_public,
    cloudsql.cloud_sql_private_encrypted_backed_up,
    kubernetes.helm_release_pinned,
    kubernetes.kubernetes_no_privileged,
    kubernetes.docker_in_docker_privileged,
    secrets.no_plaintext_secrets,
    data.data_protected,
    labels.required_labels,
    storage.same_location,
]
