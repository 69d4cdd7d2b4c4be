"""The stack's secrets in Secret Manager, each readable only by the VM's service account (a
secretAccessor binding on the secret itself, not on the project). The boot script reads them with the
VM's metadata-server token; instance metadata carries only their names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


@dataclass(frozen=True)
class StackSecret:
    env_name: str       # the `${NAME}` placeholder in the compose file
    resource: str       # projects/<project>/secrets/<id>, what the boot script reads


@dataclass(frozen=True)
class StackSecrets:
    entries: tuple[StackSecret, ...]
    readable_after: tuple[pulumi.Resource, ...]  # the VM must boot only once these exist

    def metadata_value(self) -> str:
        """The `kestra-secrets` metadata value: one `NAME resource` line per secret (no values)."""
        return "".join(f"{entry.env_name} {entry.resource}\n" for entry in self.entries)


def secret_id(prefix: str, env_name: str) -> str:
    return f"{prefix}-{re.sub(r'[^a-z0-9]+', '-', env_name.lower()).strip('-')}"


def create_secrets(name: str, prefix: str, project: str, values: Mapping[str, pulumi.Input[str]],
                   reader_email: pulumi.Input[str], labels: Mapping[str, str],
                   parent: pulumi.Resource) -> StackSecrets:
    opts = pulumi.ResourceOptions(parent=parent)
    entries, created = [], []
    for env_name in sorted(values):
        sid = secret_id(prefix, env_name)
        secret = gcp.secretmanager.Secret(
            f"{name}-{sid}", project=project, secret_id=sid, labels=dict(labels),
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()),
            opts=opts)
        version = gcp.secretmanager.SecretVersion(
            f"{name}-{sid}-version", secret=secret.id,
            secret_data=pulumi.Output.secret(values[env_name]), opts=opts)
        reader = gcp.secretmanager.SecretIamMember(
            f"{name}-{sid}-reader", project=project, secret_id=secret.secret_id, role=ACCESSOR_ROLE,
            member=pulumi.Output.concat("serviceAccount:", reader_email), opts=opts)
        entries.append(StackSecret(env_name, f"projects/{project}/secrets/{sid}"))
        created += [version, reader]
    return StackSecrets(tuple(entries), tuple(created))
