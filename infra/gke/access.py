"""How operators reach the cluster and the services in it, as text (pure; the stack exports it).

The kubeconfig names the DNS-based control-plane endpoint and authenticates with
`gke-gcloud-auth-plugin` (client-go's exec credential plugin, what `gcloud container clusters
get-credentials` writes since GKE 1.26). The DNS endpoint is served by Google's front end with a
publicly trusted certificate, so the kubeconfig carries no cluster CA (`get-credentials --dns-endpoint`
writes none either). Kestra and pgAdmin are ClusterIP services: `kubectl port-forward` brings each to
127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

LOCALHOST = "127.0.0.1"
AUTH_PLUGIN = "gke-gcloud-auth-plugin"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def kubeconfig(context: str, endpoint: str) -> str:
    """A kubeconfig for the cluster at DNS endpoint `endpoint`, one context named `context`."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": f"https://{endpoint}"}}],
        "users": [{"name": context, "user": {"exec": {
            "apiVersion": EXEC_API_VERSION,
            "command": AUTH_PLUGIN,
            "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }
    return yaml.safe_dump(document, sort_keys=False)


@dataclass(frozen=True)
class ClusterAccess:
    cluster: str
    location: str
    project: str
    namespace: str
    kestra_service: str
    kestra_port: int
    local_kestra_port: int
    pgadmin_service: str
    pgadmin_port: int
    local_pgadmin_port: int

    def credentials_command(self) -> str:
        return (f"gcloud container clusters get-credentials {self.cluster} --location {self.location} "
                f"--project {self.project} --dns-endpoint")

    def _port_forward(self, service: str, local: int, remote: int) -> str:
        context = f"gke_{self.project}_{self.location}_{self.cluster}"  # the context get-credentials names
        return (f"kubectl --context {context} --namespace {self.namespace} port-forward "
                f"--address {LOCALHOST} service/{service} {local}:{remote}")

    def kestra_port_forward_command(self) -> str:
        return self._port_forward(self.kestra_service, self.local_kestra_port, self.kestra_port)

    def pgadmin_port_forward_command(self) -> str:
        return self._port_forward(self.pgadmin_service, self.local_pgadmin_port, self.pgadmin_port)

    def kestra_url(self) -> str:
        return f"http://{LOCALHOST}:{self.local_kestra_port}"

    def pgadmin_url(self) -> str:
        return f"http://{LOCALHOST}:{self.local_pgadmin_port}"
