"""pgAdmin in the cluster: a Secret with its files, a Deployment and a ClusterIP Service, pre-connected
to `ny_taxi` on Cloud SQL (the manifests are pure and validated in tests; `create_pgadmin` registers them).

dpage/pgadmin4 9.17 (pgadmin-org/pgadmin4 REL-9_17 pkg/docker/entrypoint.sh): it runs as uid 5050;
reads its login password from PGADMIN_DEFAULT_PASSWORD_FILE (`file_env`), so the password is a file as
on the other targets; copies PGPASS_FILE into its storage folder at start; listens on
PGADMIN_LISTEN_PORT (8080 here, so it needs no capability to bind a low port). Its data folder is an
emptyDir: the server list and the login are recreated from servers.json and the files at every start.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra.gke.kubernetes import create_object
from infra.gke.manifests import APP_LABEL, PART_OF, metadata
from infra.services import (
    PGADMIN_PASSFILE,
    PGADMIN_PASSWORD,
    PGADMIN_PASSWORD_FILE,
    PGADMIN_SERVERS_FILE,
    PGADMIN_UID,
    PGPASS_ANY_DATABASE,
    POSTGRES_PORT,
    TAXI_DB_PASSWORD,
    TAXI_USER,
    pgadmin_environment,
    pgadmin_servers_json,
    pgpass_line,
)
from infra.settings import Settings

PGADMIN = "pgadmin"
PGADMIN_PORT = 8080
PGADMIN_DATA = "/var/lib/pgadmin"
# Secret key -> where the container finds it.
FILES = {"servers.json": PGADMIN_SERVERS_FILE, "pgpass": PGADMIN_PASSFILE, "password": PGADMIN_PASSWORD_FILE}


def pgadmin_secret(password: object, servers_json: object, pgpass: object) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": metadata(PGADMIN, **{APP_LABEL: PGADMIN}),
            "stringData": {"password": password, "servers.json": servers_json, "pgpass": pgpass}}


def _environment(email: str) -> list[dict]:
    plain = {**pgadmin_environment(email), "PGADMIN_LISTEN_PORT": str(PGADMIN_PORT)}
    return [{"name": name, "value": value} for name, value in plain.items()]


def pgadmin_deployment(image: str, email: str) -> dict:
    labels = {APP_LABEL: PGADMIN}
    probe = {"httpGet": {"path": "/misc/ping", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 5}
    container = {
        "name": PGADMIN, "image": image, "imagePullPolicy": "IfNotPresent",
        "env": _environment(email),
        "ports": [{"name": "http", "containerPort": PGADMIN_PORT, "protocol": "TCP"}],
        "startupProbe": {**probe, "failureThreshold": 30},
        "readinessProbe": probe,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "data", "mountPath": PGADMIN_DATA}] + [
            {"name": "files", "mountPath": path, "subPath": key, "readOnly": True} for key, path in FILES.items()],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": metadata(PGADMIN, **labels),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": {**PART_OF, **labels}},
                "spec": {
                    "automountServiceAccountToken": False,
                    # fsGroup: the Secret's files (mode 0440) and the emptyDir belong to pgAdmin's group.
                    "securityContext": {"runAsNonRoot": True, "runAsUser": PGADMIN_UID,
                                        "fsGroup": PGADMIN_UID, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [
                        {"name": "data", "emptyDir": {}},
                        {"name": "files", "secret": {"secretName": PGADMIN, "defaultMode": 0o440,
                                                     "items": [{"key": key, "path": key} for key in FILES]}},
                    ],
                },
            },
        },
    }


def pgadmin_service() -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": metadata(PGADMIN, **{APP_LABEL: PGADMIN}),
            "spec": {"type": "ClusterIP", "selector": {APP_LABEL: PGADMIN},
                     "ports": [{"name": "http", "port": PGADMIN_PORT, "targetPort": "http", "protocol": "TCP"}]}}


def create_pgadmin(name: str, settings: Settings, sql_host: pulumi.Output[str],
                   secrets: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions) -> None:
    servers = sql_host.apply(lambda host: pgadmin_servers_json(host=host, sslmode="require"))
    pgpass = pulumi.Output.all(sql_host, secrets[TAXI_DB_PASSWORD]).apply(
        lambda parts: pgpass_line(parts[0], POSTGRES_PORT, PGPASS_ANY_DATABASE, TAXI_USER, parts[1]))
    files = create_object(f"{name}-pgadmin-secret", pgadmin_secret(secrets[PGADMIN_PASSWORD], servers, pgpass), opts)
    create_object(f"{name}-pgadmin", pgadmin_deployment(settings.images.pgadmin, settings.pgadmin_email),
                  pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[files])))
    create_object(f"{name}-pgadmin-service", pgadmin_service(), opts)
