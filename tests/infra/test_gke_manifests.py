"""Every Kubernetes object the project renders itself, validated strictly (unknown or mistyped fields
fail) against the Kubernetes schemas of the versions GKE's REGULAR channel runs, as planned by the real
program under mocks."""

from __future__ import annotations

import copy
import json

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


def test_pgadmin_reads_its_password_and_server_list_from_files_pointing_at_cloud_sql(gke_plan):
    deployment = gke_plan.named("gke-pgadmin").inputs
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert "PGADMIN_DEFAULT_PASSWORD" not in env
    mounts = {m["mountPath"]: m["subPath"] for m in container["volumeMounts"] if "subPath" in m}
    assert mounts == {env["PGADMIN_DEFAULT_PASSWORD_FILE"]: "password", env["PGADMIN_SERVER_JSON_FILE"]: "servers.json",
                      env["PGPASS_FILE"]: "pgpass"}
    secret = gke_plan.named("gke-pgadmin-secret")
    assert "stringData" in secret.secret_inputs
    files = secret.inputs["stringData"]
    assert files["password"] == gke_plan.outputs["pgadmin_password"]
    server = json.loads(files["servers.json"])["Servers"]["1"]
    assert (server["Host"], server["ConnectionParameters"]["sslmode"]) == ("10.70.0.3", "require")
    host, port, database, user, password = files["pgpass"].rstrip("\n").split(":")
    assert (host, port, database, user) == ("10.70.0.3", "5432", "*", "taxi")
    assert password == gke_plan.outputs["postgres_password"]
