"""The stack's secrets in Secret Manager, each readable only by the VM's service account (a
secretAccessor binding on the secret itself, not on the project). The boot script reads them with the
VM's metadata-server token; instance metadata carries only their names.

Two kinds: a service set's secret file (built by Pulumi from the generated values: a password file, the
pgpass file, Kestra's secret configuration) is stored whole, and the boot script writes it byte for byte
to tmpfs with its owner and mode; an environment secret (Kestra's base64 `SECRET_*` values) becomes a
`NAME=value` line of the env file compose interpolates the compose file's `${NAME}` from."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.services import SecretFile

ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


@dataclass(frozen=True)
class StackSecret:
    name: str      # the env variable (`${NAME}` in the compose file), or the compose secret's name
    resource: str  # projects/<project>/secrets/<id>, what the boot script reads
    file: SecretFile | None = None  # None: an env-file line

    def metadata_line(self) -> str:
        if self.file is None:
            return f"env {self.name} {self.resource}\n"
        return f"file {self.name} {self.resource} {self.file.owner} {self.file.mode:04o}\n"


@dataclass(frozen=True)
class StackSecrets:
    entries: tuple[StackSecret, ...]
    readable_after: tuple[pulumi.Resource, ...]  # the VM must boot only once these exist

    def metadata_value(self) -> str:
        """The `kestra-secrets` metadata value: one line per secret, names and file modes (no values):
        `env NAME RESOURCE` or `file NAME RESOURCE OWNER MODE`."""
        return "".join(entry.metadata_line() for entry in self.entries)


def secret_id(prefix: str, name: str) -> str:
    return f"{prefix}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"


def create_secrets(name: str, prefix: str, project: str, env: Mapping[str, pulumi.Input[str]],
                   files: Sequence[tuple[SecretFile, pulumi.Input[str]]], reader_email: pulumi.Input[str],
                   labels: Mapping[str, str], parent: pulumi.Resource) -> StackSecrets:
    opts = pulumi.ResourceOptions(parent=parent)
    wanted: list[tuple[str, SecretFile | None, pulumi.Input[str]]] = [
        (env_name, None, env[env_name]) for env_name in sorted(env)]
    wanted += [(file.name, file, content) for file, content in sorted(files, key=lambda pair: pair[0].name)]
    entries, created = [], []
    for entry_name, file, value in wanted:
        sid = secret_id(prefix, entry_name)
        secret = gcp.secretmanager.Secret(
            f"{name}-{sid}", project=project, secret_id=sid, labels=dict(labels),
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()),
            opts=opts)
        version = gcp.secretmanager.SecretVersion(
            f"{name}-{sid}-version", secret=secret.id, secret_data=pulumi.Output.secret(value), opts=opts)
        reader = gcp.secretmanager.SecretIamMember(
            f"{name}-{sid}-reader", project=project, secret_id=secret.secret_id, role=ACCESSOR_ROLE,
            member=pulumi.Output.concat("serviceAccount:", reader_email), opts=opts)
        entries.append(StackSecret(entry_name, f"projects/{project}/secrets/{sid}", file))
        created += [version, reader]
    if len({entry.resource for entry in entries}) != len(entries):
        raise ValueError("two stack secrets map to one Secret Manager id")
    return StackSecrets(tuple(entries), tuple(created))
