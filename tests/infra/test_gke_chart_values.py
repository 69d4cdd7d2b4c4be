"""The Helm values the gke target passes to Kestra's chart 1.0.20: every key one the chart reads
(tests/data/kestra-chart-1.0.20-values.txt), and the tree that makes Kestra distributed."""

from __future__ import annotations

import copy

import pytest
import yaml

from infra.gke.kestra_values import DIND_IMAGE_TAG, SECRETS_FILE
from tests.infra.chart_values import leaf_paths, unknown_paths

RELEASE = "kubernetes:helm.sh/v3:Release"


def release(plan):
    (resource,) = plan.of_type(RELEASE)
    return resource


def values(plan) -> dict:
    return release(plan).inputs["values"]


@pytest.mark.parametrize("plan_name", ["gke_plan", "gke_docker_plan"])
def test_every_value_key_is_one_chart_1_0_20_reads(request, plan_name):
    tree = values(request.getfixturevalue(plan_name))
    assert len(leaf_paths(tree)) > 40
    assert unknown_paths(tree) == []


@pytest.mark.parametrize(("where", "key"), [
    (("deployments", "worker"), "workerThread"),  # workerThreads misspelt
    (("deployments",), "webservers"),  # would render an extra worker group, not the webserver
    (("configurations",), "secret"),
    ((), "configuration"),  # refused by the chart since 1.0
    ((), "postgresql"),
])
def test_a_misspelt_or_refused_key_is_reported(gke_plan, where, key):
    tree = copy.deepcopy(values(gke_plan))
    node = tree
    for part in where:
        node = node[part]
    node[key] = {"enabled": True}
    assert unknown_paths(tree), key


def test_release_pins_the_chart_and_the_image(gke_plan):
    inputs = release(gke_plan).inputs
    assert (inputs["chart"], inputs["version"]) == ("kestra", "1.0.20")
    assert inputs["repositoryOpts"] == {"repo": "https://helm.kestra.io/"}
    assert values(gke_plan)["image"] == {"repository": "kestra/kestra", "tag": "v1.1.6", "pullPolicy": "IfNotPresent"}
    assert (inputs["name"], inputs["namespace"]) == ("kestra", "kestra")


def test_kestra_runs_distributed_with_one_executor_and_scheduler_replaced_not_rolled(gke_plan):
    deployments = values(gke_plan)["deployments"]
    assert deployments["standalone"] == {"enabled": False}
    assert deployments["indexer"] == {"enabled": False}
    assert deployments["webserver"]["replicas"] == 2 and deployments["webserver"]["enabled"] is True
    for singleton in ("executor", "scheduler"):
        assert deployments[singleton]["replicas"] == 1
        assert deployments[singleton]["strategy"] == {"type": "Recreate"}
    assert (deployments["worker"]["replicas"], deployments["worker"]["workerThreads"]) == (2, 4)


def test_configuration_comes_from_the_configmap_and_the_secret_never_kestra_configuration(gke_plan):
    tree = values(gke_plan)
    assert tree["configurations"]["secrets"] == [{"name": "kestra-secrets", "key": SECRETS_FILE}]
    application = tree["configurations"]["application"]
    assert application["datasources"]["postgres"]["url"] == "jdbc:postgresql://10.70.0.3:5432/kestra?sslmode=require"
    assert application["datasources"]["postgres"]["maximum-pool-size"] == 8
    assert application["kestra"]["storage"] == {"type": "gcs", "gcs": {
        "bucket": "replace-with-your-project-zoomcamp", "project-id": "replace-with-your-project"}}
    assert "KESTRA_CONFIGURATION" not in yaml.safe_dump(tree)
    assert "password" not in yaml.safe_dump(application)
    assert not release(gke_plan).secret_inputs  # no secret in the values: they live in the Secret


def test_secret_config_holds_the_passwords_and_every_plugin_default(gke_plan):
    secret = gke_plan.named("gke-kestra-secrets")
    assert "stringData" in secret.secret_inputs
    document = yaml.safe_load(secret.inputs["stringData"][SECRETS_FILE])
    assert set(document["datasources"]["postgres"]) == {"password"}
    assert set(document["kestra"]["server"]["basic-auth"]) == {"password"}
    jdbc, gcp = document["kestra"]["plugins"]["defaults"]
    assert jdbc["values"]["url"] == "jdbc:postgresql://10.70.0.3:5432/ny_taxi?sslmode=require"
    assert jdbc["values"]["username"] == "taxi" and jdbc["values"]["password"]
    assert gcp == {"type": "io.kestra.plugin.gcp", "values": {"projectId": "{{ kv('GCP_PROJECT_ID') }}"}}


def test_storage_identity_is_workload_identity_without_any_key(gke_plan):
    tree = values(gke_plan)
    email = gke_plan.outputs["gcp_service_account_email"]
    assert tree["serviceAccount"] == {"create": True, "name": "kestra",
                                      "annotations": {"iam.gke.io/gcp-service-account": email}}
    (binding,) = gke_plan.of_type("gcp:serviceaccount/iAMMember:IAMMember")
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == "serviceAccount:replace-with-your-project.svc.id.goog[kestra/kestra]"
    assert binding.inputs["serviceAccountId"].endswith(email)
    assert not gke_plan.of_type("gcp:serviceaccount/key:Key")


def test_docker_in_docker_only_with_the_docker_task_runner_and_pinned(gke_plan, gke_docker_plan):
    assert values(gke_plan)["dind"] == {"enabled": False}  # the chart's default is true
    assert "extraEnv" not in values(gke_plan)["deployments"]["worker"]
    tree = values(gke_docker_plan)
    assert tree["dind"]["enabled"] is True and tree["dind"]["mode"] == "rootless"
    assert tree["dind"]["base"]["rootless"]["image"]["tag"] == DIND_IMAGE_TAG != "dind-rootless"
    assert tree["deployments"]["worker"]["extraEnv"] == [{"name": "DOCKER_HOST",
                                                          "value": "unix:///dind/docker.sock"}]


def test_kestra_reads_the_taxi_password_secret_from_the_secret(gke_plan):
    (env,) = values(gke_plan)["common"]["extraEnv"]
    assert env == {"name": "SECRET_TAXI_POSTGRES_PASSWORD",
                   "valueFrom": {"secretKeyRef": {"name": "kestra-secrets", "key": "SECRET_TAXI_POSTGRES_PASSWORD"}}}
    data = gke_plan.named("gke-kestra-secrets").inputs["stringData"]
    assert "SECRET_TAXI_POSTGRES_PASSWORD" in data
