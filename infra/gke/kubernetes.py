"""Turning the project's manifests (infra/gke/manifests.py) into pulumi-kubernetes resources.

Dict inputs keep Kubernetes' camelCase keys as they are (checked under mocks: the provider receives
exactly the manifest), so the validated manifest is what the cluster gets.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def create_object(name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    kind = (manifest["apiVersion"], manifest["kind"])
    metadata = manifest["metadata"]
    if kind == ("v1", "Namespace"):
        return k8s.core.v1.Namespace(name, metadata=metadata, opts=opts)
    if kind == ("v1", "Secret"):
        return k8s.core.v1.Secret(name, metadata=metadata, type=manifest["type"],
                                  string_data=manifest["stringData"], opts=opts)
    if kind == ("v1", "Service"):
        return k8s.core.v1.Service(name, metadata=metadata, spec=manifest["spec"], opts=opts)
    if kind == ("apps/v1", "Deployment"):
        return k8s.apps.v1.Deployment(name, metadata=metadata, spec=manifest["spec"], opts=opts)
    raise ValueError(f"no resource for {kind}")
