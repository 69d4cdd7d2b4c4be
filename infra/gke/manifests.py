"""The Kubernetes objects this project renders itself (pure: dicts in Kubernetes' own JSON form), next
to the Helm release: the namespace, the Secret with Kestra's secret configuration, and pgAdmin.

Tests validate each one strictly against the Kubernetes schemas (kubernetes-validate). Values may be
Pulumi Outputs when the program builds them; tests pass plain strings.

pgAdmin (dpage/pgadmin4, entrypoint at REL-9_17): it runs as uid 5050, copies PGPASS_FILE into its
storage folder at start, listens on PGADMIN_LISTEN_PORT (8080 here, so it needs no capability to bind
a low port). Its data folder is an emptyDir: the server list and the login are recreated from
servers.json and the environment at every start, so nothing of value lives there.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.gke.kestra_values import NAMESPACE, SECRET_ENV_KEY, SECRETS_FILE, SECRETS_NAME
from infra.services import (
    PGADMIN_PASSFILE,
    PGADMIN_SERVERS_FILE,
    PGADMIN_UID,
)

APP_LABEL = "app.kubernetes.io/name"
PART_OF = {"app.kubernetes.io/part-of": "kestra-stack", "app.kubernetes.io/managed-by": "pulumi"}
PGADMIN = "pgadmin"
PGADMIN_PORT = 8080
PGADMIN_DATA = "/var/lib/pgadmin"
PGADMIN_PASSWORD_KEY = "password"


def _metadata(name: str, namespaced: bool = True, **labels: str) -> dict:
    metadata: dict = {"name": name, "labels": {**PART_OF, **labels}}
    if namespaced:
        metadata["namespace"] = NAMESPACE
    return metadata


def namespace() -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _metadata(NAMESPACE, namespaced=False)}


def kestra_secret(secret_config_yaml: object, taxi_password_base64: object) -> dict:
    """Kestra's secret configuration file and the SECRET_* value its secret() function reads."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": _metadata(SECRETS_NAME, **{APP_LABEL: "kestra"}),
            "stringData": {SECRETS_FILE: secret_config_yaml, SECRET_ENV_KEY: taxi_password_base64}}


def pgadmin_secret(password: object, servers_json: object, pgpass: object) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": _metadata(PGADMIN, **{APP_LABEL: PGADMIN}),
            "stringData": {PGADMIN_PASSWORD_KEY: password, "servers.json": servers_json, "pgpass": pgpass}}


def _pgadmin_env(email: str, password_secret: str) -> list[dict]:
    plain: Mapping[str, str] = {
        "PGADMIN_DEFAULT_EMAIL": email,
        "PGADMIN_SERVER_JSON_FILE": PGADMIN_SERVERS_FILE,
        "PGADMIN_REPLACE_SERVERS_ON_STARTUP": "True",
        "PGPASS_FILE": PGADMIN_PASSFILE,
        "PGADMIN_DISABLE_POSTFIX": "true",
        "PGADMIN_CONFIG_UPGRADE_CHECK_ENABLED": "False",
        "PGADMIN_LISTEN_PORT": str(PGADMIN_PORT),
    }
    env = [{"name": name, "value": value} for name, value in plain.items()]
    env.append({"name": "PGADMIN_DEFAULT_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": password_secret, "key": PGADMIN_PASSWORD_KEY}}})
    return env


def pgadmin_deployment(image: str, email: str) -> dict:
    labels = {APP_LABEL: PGADMIN}
    probe = {"httpGet": {"path": "/misc/ping", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 5}
    container = {
        "name": PGADMIN, "image": image, "imagePullPolicy": "IfNotPresent",
        "env": _pgadmin_env(email, PGADMIN),
        "ports": [{"name": "http", "containerPort": PGADMIN_PORT, "protocol": "TCP"}],
        "startupProbe": {**probe, "failureThreshold": 30},
        "readinessProbe": probe,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [
            {"name": "data", "mountPath": PGADMIN_DATA},
            {"name": "files", "mountPath": PGADMIN_SERVERS_FILE, "subPath": "servers.json", "readOnly": True},
            {"name": "files", "mountPath": PGADMIN_PASSFILE, "subPath": "pgpass", "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _metadata(PGADMIN, **labels),
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
                                                     "items": [{"key": "servers.json", "path": "servers.json"},
                                                               {"key": "pgpass", "path": "pgpass"}]}},
                    ],
                },
            },
        },
    }


def pgadmin_service() -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _metadata(PGADMIN, **{APP_LABEL: PGADMIN}),
            "spec": {"type": "ClusterIP", "selector": {APP_LABEL: PGADMIN},
                     "ports": [{"name": "http", "port": PGADMIN_PORT, "targetPort": "http", "protocol": "TCP"}]}}
