"""GkeTarget: Kestra's distributed components from its official Helm chart on GKE.

The network and the cluster (infra/gke/network.py, cluster.py), Cloud SQL on a private IP
(cloudsql.py), Kestra's internal storage on the data lake's bucket through Workload Identity (the
chart's Kubernetes service account acts as the data lake's Google service account: no key anywhere),
the Helm release with its ConfigMap config and the Secret beside it (kestra_values.py, manifests.py),
and pgAdmin (pgadmin.py). Kestra's storage reuses the data lake's bucket, as the VM's kestraStorage gcs does: the
identity already has objectAdmin on it, and no second bucket needs protecting; Kestra's files live
under its own prefixes (main/<namespace>/…), apart from the data lake's objects.

Teardown order follows the dependencies: the release and the project's Kubernetes objects go first
(they use the cluster's provider and the database users), then the cluster, Cloud SQL (kept when
protectData) and the network.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.gke.access import ClusterAccess, kubeconfig
from infra.gke.cloudsql import create_cloud_sql
from infra.gke.cluster import create_cluster, workload_pool
from infra.gke.kestra_values import (
    CHART,
    CHART_REPOSITORY,
    CHART_VERSION,
    KESTRA_HTTP_PORT,
    KESTRA_SERVICE,
    NAMESPACE,
    RELEASE_NAME,
    SERVICE_ACCOUNT,
    application_config,
    helm_values,
    secret_config,
)
from infra.gke.kubernetes import create_object
from infra.kestra_config import SecretValues, dump
from infra.gke.manifests import kestra_secret, namespace
from infra.gke.network import create_network
from infra.gke.pgadmin import PGADMIN, PGADMIN_PORT, create_pgadmin
from infra.services import (
    KESTRA_DB_PASSWORD,
    KESTRA_PASSWORD,
    POSTGRES_PORT,
    TAXI_DB_PASSWORD,
    TAXI_DB_PASSWORD_BASE64,
)
from infra.settings import Settings
from infra.targets import Endpoints, TargetArgs
from infra.vm_target import physical_name

# The Docker task runner's containers run in the worker's Docker-in-Docker engine, on its default network.
DIND_NETWORK = "bridge"
RELEASE_TIMEOUT_S = 900  # first start: image pulls and Kestra's migrations on an empty database


class GkeTarget(pulumi.ComponentResource):
    endpoints: Endpoints
    extra_outputs: Mapping[str, pulumi.Input[str]]

    def __init__(self, name: str, args: TargetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings: Settings = args.settings
        gke = settings.gke
        if gke is None or settings.gcp_project is None or args.data_lake is None or args.gcp_provider is None:
            raise ValueError("the gke target needs settings.gke, a GCP project, its GCP provider and the "
                             "data lake")
        # Every GCP child inherits the stack's explicit GCP provider; Kubernetes objects name the cluster's.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[args.gcp_provider]))
        super().__init__("kestra-stack:gke_target:GkeTarget", name, None, opts)
        project = settings.gcp_project
        cluster_name = physical_name(pulumi.get_stack())
        labels = dict(settings.labels)
        secrets = args.secrets
        gcp_opts = pulumi.ResourceOptions(parent=self)

        network = create_network(name, cluster_name, project, gke.region, gcp_opts)
        cluster = create_cluster(name, cluster_name, project, gke, network,
                                 settings.enable_docker_task_runner, labels, gcp_opts)
        sql = create_cloud_sql(name, cluster_name, project, gke.region, gke.sql_tier, network, secrets,
                               settings.protect_data, labels, gcp_opts)

        identity = args.data_lake.service_account
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity", service_account_id=identity.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{workload_pool(project)}[{NAMESPACE}/{SERVICE_ACCOUNT}]",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster.cluster]))  # the pool exists with it

        config_text = pulumi.Output.secret(cluster.endpoint.apply(
            lambda endpoint: kubeconfig(f"gke_{project}_{gke.location}_{cluster_name}", endpoint)))
        waits_for = [cluster.node_pool] if cluster.node_pool is not None else [cluster.cluster]
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=config_text,
                                opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for))
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)

        ns = create_object(f"{name}-namespace", namespace(), on_cluster)
        in_namespace = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[ns]))

        sql_ip = sql.private_ip
        secret_text = pulumi.Output.secret(pulumi.Output.all(
            sql_ip, secrets[KESTRA_PASSWORD], secrets[KESTRA_DB_PASSWORD], secrets[TAXI_DB_PASSWORD]).apply(
            lambda parts: dump(secret_config(settings, parts[0], SecretValues(
                kestra_password=parts[1], database_password=parts[2], taxi_password=parts[3])))))
        config_secret = create_object(
            f"{name}-kestra-secrets", kestra_secret(secret_text, secrets[TAXI_DB_PASSWORD_BASE64]), in_namespace)

        application = sql_ip.apply(lambda ip: application_config(settings, ip))
        values = pulumi.Output.all(application, identity.email).apply(
            lambda parts: helm_values(settings, parts[0], parts[1]))
        release = k8s.helm.v3.Release(
            f"{name}-kestra", name=RELEASE_NAME, chart=CHART, version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=NAMESPACE, values=values, timeout=RELEASE_TIMEOUT_S,
            opts=pulumi.ResourceOptions.merge(in_namespace, pulumi.ResourceOptions(
                depends_on=[config_secret, *sql.users])))

        create_pgadmin(name, settings, sql_ip, secrets, in_namespace)

        access = ClusterAccess(
            cluster=cluster_name, location=gke.location, project=project, namespace=NAMESPACE,
            kestra_service=KESTRA_SERVICE, kestra_port=KESTRA_HTTP_PORT, local_kestra_port=gke.port_forward_port,
            pgadmin_service=PGADMIN, pgadmin_port=PGADMIN_PORT, local_pgadmin_port=settings.ports.pgadmin)
        self.endpoints = Endpoints(
            kestra_url=access.kestra_url(), pgadmin_url=access.pgadmin_url(),
            postgres_host=sql_ip, postgres_port=POSTGRES_PORT, docker_network=DIND_NETWORK,
            taxi_postgres_host=sql_ip)
        self.extra_outputs = {
            "kubeconfig": config_text,
            "gke_credentials_command": access.credentials_command(),
            "kestra_port_forward_command": access.kestra_port_forward_command(),
            "pgadmin_port_forward_command": access.pgadmin_port_forward_command(),
            "gke_cluster": cluster.cluster.name,
            "gke_location": gke.location,
            "sql_instance": sql.instance.name,
            "kestra_service_account": identity.email,
        }
        self.register_outputs({"cluster": cluster.cluster.name, "release": release.name})
