"""Kestra's Helm chart values and configuration for the gke target (pure: plain data in, plain data out).

Chart `kestra` 1.0.20 (https://helm.kestra.io/, source kestra-io/helm-charts at 6e97852, the commit
that set version 1.0.20 / appVersion v1.1.6). What its templates do with these values:
- `configurations.application` becomes the ConfigMap `<release>-config` mounted as /app/confs/_default.yml;
  each `configurations.secrets` entry {name, key} mounts key `key` of an existing Secret `name` as
  /app/secrets/<key>. MICRONAUT_CONFIG_FILES lists the ConfigMap first, then the secrets, so a secret
  file adds to (and overrides) the application config. KESTRA_CONFIGURATION is never set: Kestra's
  launcher would replace that file list with it.
- `deployments.<component>` renders one Deployment per enabled component running `server <component>`;
  `workerThreads` becomes `--thread=N` on workers; `strategy` is the Deployment's update strategy.
- `dind.enabled` (default true!) adds a privileged Docker-in-Docker sidecar to every worker, sharing
  /dind (its socket) and /tmp with the worker container; the worker is not told where the socket is,
  so DOCKER_HOST is set here when the Docker task runner is wanted.
- The chart has no values schema: a misspelt key is silently ignored (tests check every key against
  tests/data/kestra-chart-1.0.20-values.txt).

The datasource password, the basic-auth password and the plugin defaults (which carry the taxi
database's password) go in the secret file; a list cannot be merged across config files, so the plugin
defaults are there whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra.gke.settings import GkeSettings
from infra.services import (
    KESTRA_DATABASE,
    KESTRA_DB_USER,
    POSTGRES_PORT,
    TAXI_DATABASE,
    TAXI_POSTGRES_PASSWORD_SECRET,
    TAXI_USER,
)
from infra.settings import Settings

CHART = "kestra"
CHART_REPOSITORY = "https://helm.kestra.io/"
CHART_VERSION = "1.0.20"  # carries Kestra v1.1.6 (appVersion); image.tag is pinned as well
RELEASE_NAME = "kestra"  # contains the chart name, so the chart's fullname is just "kestra"
NAMESPACE = "kestra"
KESTRA_SERVICE = RELEASE_NAME  # the chart's Service: ports http 8080 and management 8081
KESTRA_HTTP_PORT = 8080
SERVICE_ACCOUNT = "kestra"  # the chart creates it; Workload Identity maps it to the data lake's account
SECRETS_NAME = "kestra-secrets"  # the Secret this project creates next to the release
SECRETS_FILE = "secrets.yml"  # its key holding the secret half of Kestra's configuration
SECRET_ENV_KEY = f"SECRET_{TAXI_POSTGRES_PASSWORD_SECRET}"  # and the key Kestra's secret() reads
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
# Cloud SQL requires SSL (ssl_mode ENCRYPTED_ONLY); pgjdbc's `require` encrypts without checking the
# server's certificate against a CA file the image does not have.
JDBC_SSL = "sslmode=require"
DIND_SOCKET = "unix:///dind/docker.sock"  # the chart mounts the sidecar's socket directory at /dind
# The chart's dind images default to the moving tag `dind-rootless`: pinned here to the Docker release
# current when chart 1.0.20 came out (docker-library/docker 263fbd1 tags it X.Y.Z-dind-rootless).
DIND_IMAGE_TAG = "29.1.0-dind-rootless"
# Requests sized so the autoscaler (standard) and Autopilot place pods sensibly; Autopilot also uses
# them as limits. Memory limits keep a JVM that outgrows its pod from taking its node down.
RESOURCES = {
    "webserver": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
    "executor": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
    "scheduler": {"requests": {"cpu": "250m", "memory": "768Mi"}, "limits": {"memory": "1536Mi"}},
    "worker": {"requests": {"cpu": "500m", "memory": "1536Mi"}, "limits": {"memory": "3Gi"}},
}


@dataclass(frozen=True)
class KestraSecrets:
    """The secret values the configuration needs (plain strings, or Outputs when the program runs)."""

    kestra_password: object
    kestra_db_password: object
    taxi_db_password: object


def jdbc_url(host: object, database: str) -> str:
    return f"jdbc:postgresql://{host}:{POSTGRES_PORT}/{database}?{JDBC_SSL}"


def image_parts(reference: str) -> tuple[str, str]:
    """`repository:tag` split as the chart takes it (image.repository, image.tag)."""
    repository, _, tag = reference.rpartition(":")
    if "/" in tag or not repository:
        raise ValueError(f"image {reference!r} has no tag")
    return repository, tag


def application_config(settings: Settings, sql_host: str) -> dict:
    """The non-secret half: backend, storage, basic-auth user, no call-outs."""
    gke: GkeSettings = settings.gke  # type: ignore[assignment]
    return {
        "datasources": {"postgres": {
            "url": jdbc_url(sql_host, KESTRA_DATABASE),
            "driver-class-name": "org.postgresql.Driver",
            "username": KESTRA_DB_USER,
            "maximum-pool-size": gke.db_pool_size,
        }},
        "kestra": {
            "server": {"basic-auth": {"username": settings.kestra_username}},
            "repository": {"type": "postgres"},
            "queue": {"type": "postgres"},
            "storage": {"type": "gcs", "gcs": {"bucket": settings.bucket_name,
                                               "project-id": settings.gcp_project}},
            "tutorial-flows": {"enabled": False},
            "anonymous-usage-report": {"enabled": False},
        },
    }


def secret_config(settings: Settings, sql_host: str, secrets: KestraSecrets) -> dict:
    """The secret half: passwords and the server-level plugin defaults that carry every connection."""
    plugin_defaults: list[dict] = [
        {"type": "io.kestra.plugin.jdbc.postgresql",
         "values": {"url": jdbc_url(sql_host, TAXI_DATABASE), "username": TAXI_USER,
                    "password": secrets.taxi_db_password}},
        # No service account key: the GCP plugins use the pod's identity (Workload Identity).
        {"type": "io.kestra.plugin.gcp", "values": {"projectId": "{{ kv('GCP_PROJECT_ID') }}"}},
    ]
    return {
        "datasources": {"postgres": {"password": secrets.kestra_db_password}},
        "kestra": {"server": {"basic-auth": {"password": secrets.kestra_password}},
                   "plugins": {"defaults": plugin_defaults}},
    }


def _secret_env(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRETS_NAME, "key": key}}}


def helm_values(settings: Settings, application: Mapping, google_service_account: object) -> dict:
    """The values tree for chart 1.0.20: distributed components, config from ConfigMap + Secret."""
    gke: GkeSettings = settings.gke  # type: ignore[assignment]
    repository, tag = image_parts(settings.images.kestra)
    docker = settings.enable_docker_task_runner
    worker: dict = {"enabled": True, "replicas": gke.workers, "workerThreads": gke.worker_threads,
                    "resources": RESOURCES["worker"]}
    if docker:
        worker["extraEnv"] = [{"name": "DOCKER_HOST", "value": DIND_SOCKET}]
    dind: dict = {"enabled": docker}
    if docker:
        dind |= {"mode": "rootless", "base": {"rootless": {"image": {"tag": DIND_IMAGE_TAG}}}}
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT,
                           "annotations": {WORKLOAD_IDENTITY_ANNOTATION: google_service_account}},
        "configurations": {"application": dict(application),
                           "secrets": [{"name": SECRETS_NAME, "key": SECRETS_FILE}]},
        "common": {"extraEnv": [_secret_env(SECRET_ENV_KEY, SECRET_ENV_KEY)]},
        "deployments": {
            "standalone": {"enabled": False},
            "webserver": {"enabled": True, "replicas": gke.webservers, "resources": RESOURCES["webserver"]},
            # One of each, replaced rather than rolled, so two never run at once (kestra-io/kestra#14196).
            "executor": {"enabled": True, "replicas": gke.executors, "strategy": {"type": "Recreate"},
                         "resources": RESOURCES["executor"]},
            "scheduler": {"enabled": True, "replicas": gke.schedulers, "strategy": {"type": "Recreate"},
                          "resources": RESOURCES["scheduler"]},
            "indexer": {"enabled": False},  # the webserver indexes
            "worker": worker,
        },
        "dind": dind,
        "service": {"type": "ClusterIP"},
    }
