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

Kestra's configuration itself is infra/kestra_config.py's, as on the other targets, with Cloud SQL's
JDBC URLs and the pool size: the public document is `configurations.application`, the secret one (the
passwords and the plugin defaults, whole, since a list is not merged across files) is the Secret's file.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.gke.settings import GkeSettings
from infra.kestra_config import Databases, SecretValues, public_configuration, secret_configuration
from infra.names import KESTRA_DATABASE, POSTGRES_PORT, TAXI_DATABASE
from infra.services import TAXI_POSTGRES_PASSWORD_SECRET
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
# (Kestra's working directories, tasks.tmp-dir under /tmp, are on the emptyDir the chart mounts at /tmp in
# both containers, so the paths the task runner bind-mounts exist for the sidecar's engine too.)
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


def jdbc_url(host: object, database: str) -> str:
    return f"jdbc:postgresql://{host}:{POSTGRES_PORT}/{database}?{JDBC_SSL}"


def cloud_sql_databases(settings: Settings, sql_host: str) -> Databases:
    gke: GkeSettings = settings.gke  # type: ignore[assignment]
    return Databases(kestra_url=jdbc_url(sql_host, KESTRA_DATABASE), taxi_url=jdbc_url(sql_host, TAXI_DATABASE),
                     pool_size=gke.db_pool_size)


def application_config(settings: Settings, sql_host: str) -> dict:
    """The chart's `configurations.application`: Kestra's public configuration (infra/kestra_config.py)."""
    return public_configuration(settings, cloud_sql_databases(settings, sql_host))


def secret_config(settings: Settings, sql_host: str, values: SecretValues) -> dict:
    """The file in the Secret listed in `configurations.secrets`: Kestra's secret configuration."""
    return secret_configuration(settings, values, cloud_sql_databases(settings, sql_host))


def image_parts(reference: str) -> tuple[str, str]:
    """`repository:tag` split as the chart takes it (image.repository, image.tag)."""
    repository, _, tag = reference.rpartition(":")
    if "/" in tag or not repository:
        raise ValueError(f"image {reference!r} has no tag")
    return repository, tag


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
