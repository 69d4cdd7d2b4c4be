"""Every Kubernetes object the project renders itself, validated strictly (unknown or mistyped fields
fail) against the Kubernetes schemas of the versions GKE's REGULAR channel runs, as planned by the real
program under mocks."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from infra.offline import OfflinePlan

# GKE's REGULAR channel moves through these minor versions while this chart pin is current.
KUBERNETES_VERSIONS = ("1.33.0", "1.34.0", "1.35.0")
KUBERNETES_TYPES = ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret", "kubernetes:core/v1:Service",
                    "kubernetes:apps/v1:Deployment")


def objects(plan: OfflinePlan) -> list[dict]:
    return [resource.inputs for type_ in KUBERNETES_TYPES for resource in plan.of_type(type_)]


def test_the_program_renders_the_namespace_secrets_and_pgadmin(gke_plan):
    kinds = sorted((obj["kind"], obj["metadata"]["name"]) for obj in objects(gke_plan))
    assert kinds == [("Deployment", "pgadmin"), ("Namespace", "kestra"), ("Secret", "kestra-secrets"),
                     ("Secret", "pgadmin"), ("Service", "pgadmin")]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_passes_strict_kubernetes_validation(gke_plan, version):
    for obj in objects(gke_plan):
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize(("path", "value"), [
    (("spec", "template", "spec", "containers", 0, "imagePullPolcy"), "Always"),  # misspelt field
    (("spec", "replicas"), "one"),  # mistyped field
])
def test_strict_validation_catches_unknown_and_mistyped_fields(gke_plan, path, value):
    (deployment,) = [obj for obj in objects(gke_plan) if obj["kind"] == "Deployment"]
    broken = copy.deepcopy(deployment)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)
