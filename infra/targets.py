"""What `__main__` hands a target and what a target hands back.

A target is a ComponentResource taking `(name: str, args: TargetArgs, opts=None)` and exposing
`endpoints: Endpoints`: infra.docker_target.DockerTarget, infra.vm_target.VmTarget and
infra.gke_target.GkeTarget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from infra.services import TAXI_POSTGRES, SecretFile, ServiceSet
from infra.settings import Settings

if TYPE_CHECKING:
    import pulumi_gcp as gcp

    from infra.datalake import DataLake


@dataclass(frozen=True)
class TargetArgs:
    settings: Settings
    services: ServiceSet
    # One secret Output per name in services.secrets (generated passwords or the configured override).
    secrets: Mapping[str, pulumi.Output[str]]
    data_lake: DataLake | None
    # The stack's one GCP provider (infra.gcp_provider), None without a GCP project. A target passes it to
    # its GCP resources (`pulumi.ResourceOptions(providers=[...])` on itself): none may use the default one.
    gcp_provider: gcp.Provider | None = None


@dataclass(frozen=True)
class Endpoints:
    """How a user (and `ops`) reaches the services from where `pulumi up` ran."""

    kestra_url: pulumi.Input[str]
    pgadmin_url: pulumi.Input[str]
    postgres_host: pulumi.Input[str]
    postgres_port: pulumi.Input[int]
    # The Docker network the services share: task-runner containers (the dbt flows) join it to reach
    # the services by name.
    docker_network: pulumi.Input[str]
    # Where Kestra's tasks reach the taxi database (KV TAXI_POSTGRES.host): its service name on Docker
    # and the VM, Cloud SQL's private IP on GKE.
    taxi_postgres_host: pulumi.Input[str] = TAXI_POSTGRES


def secret_file_content(file: SecretFile, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    """The file built from the secrets' values once they are known; a secret Output."""
    return pulumi.Output.secret(pulumi.Output.all(**{name: secrets[name] for name in file.uses})
                                .apply(file.render))
