"""The Pulumi program: settings -> components -> exports (the outputs contract in DESIGN.md)."""

from __future__ import annotations

import pulumi

from infra.credentials import Credentials, CredentialsArgs
from infra.datalake import DataLake, DataLakeArgs, service_account_id
from infra.gcp_provider import gcp_provider
from infra.services import (
    KESTRA_PASSWORD,
    PGADMIN_PASSWORD,
    TAXI_DATABASE,
    TAXI_DB_PASSWORD,
    TAXI_POSTGRES_KV_KEY,
    TAXI_USER,
    build_service_set,
    taxi_postgres_kv,
)
from infra.settings import KESTRA_NAMESPACE, read_provider_config, read_settings
from infra.targets import TargetArgs

settings = read_settings()  # raises ConfigError before any resource is registered
services = build_service_set(settings)
credentials = Credentials("credentials", CredentialsArgs(names=services.secrets,
                                                         kestra_password=settings.kestra_password))

# Every GCP resource is managed by this provider: nothing depends on `gcp:*` config or the environment.
google = gcp_provider("gcp", settings) if settings.gcp_project is not None else None
data_lake = None
if google is not None and settings.bucket_name is not None:
    data_lake = DataLake("datalake", DataLakeArgs(
        project=settings.gcp_project,
        location=settings.gcp_location,
        bucket_name=settings.bucket_name,
        dataset_id=settings.dataset_id,
        protect_data=settings.protect_data,
        labels=settings.labels,
        create_key=settings.target == "docker",
        account_id=service_account_id(pulumi.get_stack()),
    ), pulumi.ResourceOptions(providers=[google]))

target_args = TargetArgs(settings=settings, services=services, secrets=credentials.values,
                         data_lake=data_lake, gcp_provider=google)
if settings.target == "docker":
    import os

    from infra.docker_engine import KEYS as DOCKER_KEYS
    from infra.docker_engine import daemon_socket, docker_engine
    from infra.docker_provider import docker_provider
    from infra.docker_target import DockerTarget

    # Every Docker resource goes to the engine `docker:*` config, DOCKER_HOST/DOCKER_CONTEXT or the Docker
    # CLI's current context names (in that order), like the `docker` command does.
    engine = docker_engine(read_provider_config("docker", DOCKER_KEYS), os.environ)
    if engine.host_from_context is not None:
        pulumi.log.info(f"docker: the engine of the Docker CLI's current context {engine.host_from_context!r}, "
                        f"{engine.provider_args['host']} (set docker:host to choose another)")
    target = DockerTarget("local", target_args, daemon_socket(engine, os.environ),
                          pulumi.ResourceOptions(providers=[docker_provider("docker", engine)]))
elif settings.target == "vm":
    from infra.vm_target import VmTarget

    target = VmTarget("vm", target_args)
else:
    from infra.gke_target import GkeTarget

    target = GkeTarget("gke", target_args)

endpoints = target.endpoints
kestra_kv: dict = {TAXI_POSTGRES_KV_KEY: taxi_postgres_kv(endpoints.docker_network, endpoints.taxi_postgres_host)}
if data_lake is not None:
    kestra_kv |= {
        "GCP_PROJECT_ID": settings.gcp_project,
        "GCP_LOCATION": settings.gcp_location,
        "GCP_BUCKET_NAME": data_lake.bucket.name,
        "GCP_DATASET": data_lake.dataset.dataset_id,
    }
    if data_lake.credentials is not None:
        kestra_kv["GCP_CREDS"] = data_lake.credentials

pulumi.export("kestra_url", endpoints.kestra_url)
pulumi.export("kestra_username", settings.kestra_username)
pulumi.export("kestra_password", pulumi.Output.secret(credentials.values[KESTRA_PASSWORD]))
pulumi.export("kestra_namespace", KESTRA_NAMESPACE)
pulumi.export("kestra_kv", pulumi.Output.secret(kestra_kv))
pulumi.export("kestra_backfills", [backfill.as_output() for backfill in settings.backfills])
pulumi.export("pgadmin_url", endpoints.pgadmin_url)
pulumi.export("pgadmin_email", settings.pgadmin_email)
pulumi.export("pgadmin_password", pulumi.Output.secret(credentials.values[PGADMIN_PASSWORD]))
pulumi.export("postgres_host", endpoints.postgres_host)
pulumi.export("postgres_port", endpoints.postgres_port)
pulumi.export("postgres_database", TAXI_DATABASE)
pulumi.export("postgres_username", TAXI_USER)
pulumi.export("postgres_password", pulumi.Output.secret(credentials.values[TAXI_DB_PASSWORD]))
# Target-specific outputs (the VM's tunnel commands, GKE's kubeconfig and port-forwards); Docker has none.
for output_name, value in getattr(target, "extra_outputs", {}).items():
    pulumi.export(output_name, value)
if data_lake is not None:
    pulumi.export("gcp_bucket_name", data_lake.bucket.name)
    pulumi.export("gcp_dataset", data_lake.dataset.dataset_id)
    pulumi.export("gcp_service_account_email", data_lake.service_account.email)
