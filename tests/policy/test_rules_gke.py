"""The GKE, Cloud SQL and in-cluster rules, one resource at a time as the engine runs them, and on the
real gke plans."""
from __future__ import annotations

import pytest

from infra.offline import plan_stack
from kestra_policy import types as t
from kestra_policy.offline import Resource, evaluate
from kestra_policy.rules.cloudsql import validate_cloud_sql
from kestra_policy.rules.data import validate_data_protected
from kestra_policy.rules.gke import (
    validate_control_plane,
    validate_no_legacy_auth,
    validate_node_service_account,
    validate_private_nodes,
    validate_shielded_nodes,
    validate_workload_identity,
)
from kestra_policy.rules.kubernetes import validate_docker_in_docker, validate_no_privileged, validate_release_pinned
from kestra_policy.stack import judging

from tests.policy.rule_harness import UNKNOWN_BOOL, UNKNOWN_OBJECT, UNKNOWN_STRING, check

NODE_SA = "kestra-gke-nodes@p.iam.gserviceaccount.com"
NODE_CONFIG = {"serviceAccount": NODE_SA, "workloadMetadataConfig": {"mode": "GKE_METADATA"},
               "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True}}
CLUSTER = {
    "privateClusterConfig": {"enablePrivateNodes": True},
    "controlPlaneEndpointsConfig": {"ipEndpointsConfig": {"enabled": False},
                                    "dnsEndpointConfig": {"allowExternalTraffic": True}},
    "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
    "enableShieldedNodes": True, "enableLegacyAbac": False,
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    "nodeConfig": NODE_CONFIG,
}
AUTOPILOT = {**{k: v for k, v in CLUSTER.items() if k not in ("nodeConfig", "workloadIdentityConfig")},
             "enableAutopilot": True,
             "clusterAutoscaling": {"autoProvisioningDefaults": {"serviceAccount": NODE_SA}}}
POOL = {"nodeConfig": NODE_CONFIG}
GKE_RULES = (validate_private_nodes, validate_workload_identity, validate_node_service_account,
             validate_shielded_nodes, validate_no_legacy_auth, validate_control_plane)
SQL = {"deletionProtection": True, "settings": {
    "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": "n", "sslMode": "ENCRYPTED_ONLY"},
    "backupConfiguration": {"enabled": True}, "deletionProtectionEnabled": True}}
RELEASE = {"chart": "kestra", "version": "1.0.20",
           "values": {"image": {"repository": "kestra/kestra", "tag": "v1.1.6"}, "dind": {"enabled": False}}}


def messages(props, type_=t.GKE_CLUSTER, rules=GKE_RULES) -> list[str]:
    return [message for rule in rules for message in check(rule, type_, props)]


@pytest.mark.parametrize(("type_", "props"), [(t.GKE_CLUSTER, CLUSTER), (t.GKE_CLUSTER, AUTOPILOT),
                                              (t.GKE_NODE_POOL, POOL)], ids=["standard", "autopilot", "pool"])
def test_the_targets_cluster_shapes_pass(type_, props):
    assert messages(props, type_) == []


@pytest.mark.parametrize(("change", "fragment"), [
    ({"privateClusterConfig": {}}, "enablePrivateNodes is not true"),
    ({"workloadIdentityConfig": None}, "workloadPool is not set"),
    ({"nodeConfig": {**NODE_CONFIG, "workloadMetadataConfig": {"mode": "GCE_METADATA"}}}, "GCE_METADATA"),
    ({"nodeConfig": {**NODE_CONFIG, "serviceAccount": None}}, "default compute service account"),
    ({"nodeConfig": None}, "default compute service account"),
    ({"nodeConfig": {**NODE_CONFIG, "serviceAccount": "123-compute@developer.gserviceaccount.com"}}, "default compute"),
    ({"enableShieldedNodes": False}, "enableShieldedNodes is false"),
    ({"nodeConfig": {**NODE_CONFIG, "shieldedInstanceConfig": {"enableSecureBoot": False}}}, "enableSecureBoot"),
    ({"enableLegacyAbac": True}, "ABAC"),
    ({"masterAuth": {"clientCertificateConfig": {"issueClientCertificate": True}}}, "client certificate"),
    ({"masterAuth": {"username": "admin", "password": "x"}}, "basic authentication"),
    ({"controlPlaneEndpointsConfig": {}}, "no authorised networks"),
    ({"controlPlaneEndpointsConfig": {}, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}},
     "whole internet"),
])
def test_each_weakened_cluster_setting_is_reported(change, fragment):
    reported = messages({**CLUSTER, **change})
    assert any(fragment in message for message in reported), reported


def test_a_public_control_plane_with_authorised_networks_or_a_private_endpoint_passes():
    narrow = {**CLUSTER, "controlPlaneEndpointsConfig": {},
              "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.7/32"}]}}
    private = {**CLUSTER, "controlPlaneEndpointsConfig": {},
               "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True}}
    assert messages(narrow) == messages(private) == []


def test_autopilot_without_a_node_account_and_a_pool_with_public_nodes_are_reported():
    assert messages({**AUTOPILOT, "clusterAutoscaling": {}}, rules=(validate_node_service_account,))
    assert messages({**POOL, "networkConfig": {"enablePrivateNodes": False}}, t.GKE_NODE_POOL)


def test_gke_unknowns_are_not_violations():
    blurred = {**CLUSTER, "privateClusterConfig": {"enablePrivateNodes": UNKNOWN_BOOL},
               "workloadIdentityConfig": {"workloadPool": UNKNOWN_STRING},
               "nodeConfig": {**NODE_CONFIG, "serviceAccount": UNKNOWN_STRING},
               "controlPlaneEndpointsConfig": UNKNOWN_OBJECT}
    assert messages(blurred) == []


def test_cloud_sql_passes_private_encrypted_and_backed_up():
    assert check(validate_cloud_sql, t.SQL_INSTANCE, SQL) == []


@pytest.mark.parametrize(("settings", "fragment"), [
    ({"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY"}, "backupConfiguration": {"enabled": True}}, "public IP"),
    ({"ipConfiguration": {"ipv4Enabled": False}, "backupConfiguration": {"enabled": True}}, "unencrypted"),
    ({"ipConfiguration": {"ipv4Enabled": False, "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"},
      "backupConfiguration": {"enabled": True}}, "unencrypted"),
    ({**SQL["settings"], "backupConfiguration": {"enabled": False}}, "no automated backups"),
])
def test_cloud_sql_weaknesses_are_reported(settings, fragment):
    reported = check(validate_cloud_sql, t.SQL_INSTANCE, {"settings": settings})
    assert any(fragment in message for message in reported), reported


def test_cloud_sql_must_be_deletion_protected_both_ways_outside_disposable_stacks():
    with judging("gke"):
        assert check(validate_data_protected, t.SQL_INSTANCE, SQL) == []
        bare = check(validate_data_protected, t.SQL_INSTANCE, {"deletionProtection": False, "settings": {}})
        assert len(bare) == 2
    with judging("dev"):
        assert check(validate_data_protected, t.SQL_INSTANCE, {"deletionProtection": False}) == []


def test_release_with_an_exact_chart_and_image_tag_passes():
    assert check(validate_release_pinned, t.HELM_RELEASE, RELEASE) == []


@pytest.mark.parametrize(("change", "fragment"), [
    ({"version": ">=1.0"}, "not an exact version"),
    ({"version": None}, "not an exact version"),
    ({"values": {"image": {"repository": "kestra/kestra"}, "dind": {"enabled": False}}}, "chart's appVersion"),
    ({"values": {"image": {"repository": "kestra/kestra", "tag": "latest"}, "dind": {"enabled": False}}}, "moving tag"),
    ({"values": {"image": {"tag": "v1.1.6"}}}, "chart's moving default tag"),  # dind left on, its tag left moving
    ({"values": {"image": {"tag": "v1.1.6"}, "dind": {"enabled": True, "base": {"rootless": {"image": {
        "tag": "dind-rootless"}}}}}}, "moving tag 'dind-rootless'"),
])
def test_unpinned_releases_are_reported(change, fragment):
    reported = check(validate_release_pinned, t.HELM_RELEASE, {**RELEASE, **change})
    assert any(fragment in message for message in reported), reported


def pod(**container_extra):
    return {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1", **container_extra}]}}}}


def test_privileged_containers_and_the_charts_implicit_dind_are_mandatory_violations():
    assert check(validate_no_privileged, t.K8S_DEPLOYMENT, pod()) == []
    assert check(validate_no_privileged, t.K8S_DEPLOYMENT, pod(securityContext={"privileged": True}))
    host = pod()
    host["spec"]["template"]["spec"]["hostNetwork"] = True
    assert check(validate_no_privileged, t.K8S_DEPLOYMENT, host)
    assert check(validate_no_privileged, t.HELM_RELEASE, {"values": {"image": {"tag": "v1.1.6"}}})
    assert check(validate_no_privileged, t.HELM_RELEASE, RELEASE) == []


def test_an_explicit_docker_in_docker_is_reported_by_the_advisory_rule_only():
    enabled = {**RELEASE, "values": {**RELEASE["values"], "dind": {"enabled": True}}}
    assert check(validate_no_privileged, t.HELM_RELEASE, enabled) == []
    assert check(validate_docker_in_docker, t.HELM_RELEASE, enabled)
    assert check(validate_docker_in_docker, t.HELM_RELEASE, RELEASE) == []


def resources(plan) -> list[Resource]:
    return [Resource(r.type, r.name, r.inputs, r.parent, r.protect) for r in plan.resources]


def test_the_gke_stack_passes_and_its_docker_task_runner_is_advisory_only():
    assert evaluate(resources(plan_stack("gke")), "gke") == []
    [violation] = evaluate(resources(plan_stack("gke", config={"enableDockerTaskRunner": "true"})), "gke")
    assert (violation.policy, violation.mandatory) == ("docker-in-docker-privileged", False)


def test_a_disposable_gke_stack_is_refused_outside_disposable_stacks():
    violations = evaluate(resources(plan_stack("gke", config={"protectData": "false"})), "gke")
    assert {v.message for v in violations if v.resource_type == t.SQL_INSTANCE} == {
        "deletionProtection is false: destroying the stack deletes the database instance.",
        "settings.deletionProtectionEnabled is not true: the instance can be deleted from the console, gcloud or "
        "the API."}
