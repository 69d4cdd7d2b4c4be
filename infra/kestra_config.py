"""Kestra's server configuration, built as data from the settings: a public document and a secret one.

Kestra reads both as files listed in MICRONAUT_CONFIG_FILES (its image's launcher `gradle/jar/selfrun.sh`
only writes KESTRA_CONFIGURATION to a file and points MICRONAUT_CONFIG_FILES at it; Kestra's Helm chart
lists `/app/confs/…` and `/app/secrets/…` files the same way). Micronaut merges the files key by key, so
`kestra.server.basic-auth.username` (public) and `.password` (secret) meet again; a list is not merged
across files, so the plugin defaults list, which carries the taxi password, is wholly secret.

Every target dumps these dicts (`dump`): values are never pasted into YAML text, so a password holding
YAML syntax stays text. The docker and VM targets write them to files (infra/services.py); the gke target
hands `public_configuration` to the chart's `configurations.application` and `secret_configuration` to a
Secret listed in `configurations.secrets`. One value no target can carry: `${` (Micronaut resolves
`${…}` in any configuration value as a placeholder), which the settings refuse in kestraPassword.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from infra.names import (
    KESTRA_DATABASE,
    KESTRA_DB_USER,
    KESTRA_POSTGRES,
    KESTRA_STORAGE_DIR,
    KESTRA_WORKING_DIR,
    POSTGRES_PORT,
    TAXI_DATABASE,
    TAXI_POSTGRES,
    TAXI_USER,
)
from infra.settings import Settings

# What a running task gets to finish when Kestra is told to stop (`kestra.server.termination-grace-period`,
# 5m by default in Kestra's cli/src/main/resources/application.yml); the container's stop timeout
# (infra/services.py) allows for it.
TERMINATION_GRACE_S = 60


@dataclass(frozen=True)
class Databases:
    """Where Kestra finds its backend and the taxi data, and the pool each Kestra process keeps: the
    services on the shared Docker network by default; Cloud SQL's private IP on the gke target."""

    kestra_url: str = f"jdbc:postgresql://{KESTRA_POSTGRES}:{POSTGRES_PORT}/{KESTRA_DATABASE}"
    taxi_url: str = f"jdbc:postgresql://{TAXI_POSTGRES}:{POSTGRES_PORT}/{TAXI_DATABASE}"
    pool_size: int | None = None  # datasources.postgres.maximum-pool-size; None keeps Hikari's default (10)


@dataclass(frozen=True)
class SecretValues:
    """The secrets Kestra's configuration carries."""

    kestra_password: str   # basic auth
    database_password: str  # Kestra's own Postgres (repository and queue)
    taxi_password: str      # the taxi Postgres, for the JDBC plugin defaults


def public_configuration(settings: Settings, databases: Databases = Databases()) -> dict:
    """Everything but the secrets: Postgres repository and queue, storage, basic-auth user, shutdown
    grace, no call-outs (server and UI usage reports, tutorial flows)."""
    if settings.kestra_storage == "gcs":
        storage = {"type": "gcs", "gcs": {"bucket": settings.bucket_name, "project-id": settings.gcp_project}}
    else:
        storage = {"type": "local", "local": {"base-path": KESTRA_STORAGE_DIR}}
    kestra: dict = {
        "server": {"basic-auth": {"username": settings.kestra_username},
                   # Micronaut reads ISO-8601 or one number and unit ("60s"), not Go's "1m0s"
                   # (micronaut-core TimeConverterRegistrar DURATION_MATCHER).
                   "termination-grace-period": f"{TERMINATION_GRACE_S}s"},
        "repository": {"type": "postgres"},
        "queue": {"type": "postgres"},
        "storage": storage,
        "tutorial-flows": {"enabled": False},
        "anonymous-usage-report": {"enabled": False},
        # The UI's own report, sent from the browser (webserver MiscController reads this key).
        "ui-anonymous-usage-report": {"enabled": False},
    }
    if settings.enable_docker_task_runner:
        kestra["tasks"] = {"tmp-dir": {"path": f"{KESTRA_WORKING_DIR}/tmp"}}
    datasource: dict = {"url": databases.kestra_url, "driver-class-name": "org.postgresql.Driver",
                        "username": KESTRA_DB_USER}
    if databases.pool_size is not None:
        datasource["maximum-pool-size"] = databases.pool_size
    return {"datasources": {"postgres": datasource}, "kestra": kestra}


def secret_configuration(settings: Settings, values: SecretValues, databases: Databases = Databases()) -> dict:
    """The secret leaves, nested as in the public document, and the server-level plugin defaults that
    carry every connection so that flows stay environment-free."""
    plugin_defaults: list[dict] = [{
        "type": "io.kestra.plugin.jdbc.postgresql",
        "values": {"url": databases.taxi_url, "username": TAXI_USER, "password": values.taxi_password},
    }]
    if settings.data_lake_enabled:
        gcp_values = {"projectId": "{{ kv('GCP_PROJECT_ID') }}"}
        if settings.target == "docker":  # the VM's and GKE's plugins use the attached identity
            gcp_values["serviceAccount"] = "{{ kv('GCP_CREDS') }}"
        plugin_defaults.append({"type": "io.kestra.plugin.gcp", "values": gcp_values})
    return {
        "datasources": {"postgres": {"password": values.database_password}},
        "kestra": {"server": {"basic-auth": {"password": values.kestra_password}},
                   "plugins": {"defaults": plugin_defaults}},
    }


def dump(document: dict) -> str:
    """A configuration document as Kestra reads it (YAML; every value quoted or escaped as YAML needs)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=10_000)
