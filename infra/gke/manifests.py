"""The Kubernetes objects this project renders itself next to the Helm release (pure: dicts in
Kubernetes' own JSON form): the namespace and the Secret with Kestra's secret configuration; pgAdmin's
are in infra/gke/pgadmin.py.

Tests validate each one strictly against the Kubernetes schemas (kubernetes-validate). Values may be
Pulumi Outputs when the program builds them; tests pass plain strings.
"""

from __future__ import annotations

from infra.gke.kestra_values import NAMESPACE, SECRET_ENV_KEY, SECRETS_FILE, SECRETS_NAME

APP_LABEL = "app.kubernetes.io/name"
PART_OF = {"app.kubernetes.io/part-of": "kestra-stack", "app.kubernetes.io/managed-by": "pulumi"}


def metadata(name: str, namespaced: bool = True, **labels: str) -> dict:
    result: dict = {"name": name, "labels": {**PART_OF, **labels}}
    if namespaced:
        result["namespace"] = NAMESPACE
    return result


def namespace() -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(NAMESPACE, namespaced=False)}


def kestra_secret(secret_config_yaml: object, taxi_password_base64: object) -> dict:
    """Kestra's secret configuration file and the SECRET_* value its secret() function reads."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": metadata(SECRETS_NAME, **{APP_LABEL: "kestra"}),
            "stringData": {SECRETS_FILE: secret_config_yaml, SECRET_ENV_KEY: taxi_password_base64}}
