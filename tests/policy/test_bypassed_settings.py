"""Rules whose violation the settings already refuse (latest images, 0.0.0.0/0, split locations) or the
program never produces (no shielded VM, the default service account): each is shown to fire on a real
plan with that one safeguard bypassed — the plan is taken from the real program and one resource's
inputs are changed the way a regression would change them."""
from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from infra.offline import OfflinePlan, plan_stack
from kestra_policy import pack
from kestra_policy.offline import Resource, evaluate

PROJECT = "policy-test-project"
STACK = "staging"  # not disposable: data protection applies
LABELS = '["app=kestra-stack", "env=staging"]'


@pytest.fixture(scope="module")
def vm_plan() -> OfflinePlan:
    return plan_stack("prod", config={"gcpProject": PROJECT, "labels": LABELS})


@pytest.fixture(scope="module")
def docker_plan() -> OfflinePlan:
    return plan_stack("dev", config={"gcpProject": PROJECT, "protectData": "true", "labels": LABELS})


@pytest.fixture(scope="module")
def gke_plan() -> OfflinePlan:
    return plan_stack("gke", config={"gcpProject": PROJECT, "labels": LABELS})


def resources(plan: OfflinePlan, name: str | None = None, change: Callable[[dict], None] | None = None) -> list[Resource]:
    changed = []
    for planned in plan.resources:
        inputs = copy.deepcopy(planned.inputs)
        if planned.name == name and change is not None:
            change(inputs)
        changed.append(Resource(planned.type, planned.name, inputs, planned.parent))
    return changed


def test_the_unchanged_plans_pass(vm_plan, docker_plan, gke_plan):
    assert evaluate(resources(vm_plan), STACK) == []
    assert evaluate(resources(docker_plan), STACK) == []
    assert evaluate(resources(gke_plan), STACK) == []


def findings(items: list[Resource]) -> set[tuple[str, str | None]]:
    return {(v.policy, v.resource_name) for v in evaluate(items, STACK)}


def set_key(*path, value):
    def change(inputs: dict) -> None:
        target = inputs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def drop_key(key):
    return lambda inputs: inputs.pop(key)


def open_public_ip_endpoint(inputs: dict) -> None:
    """IP endpoints back on with the public one (enablePrivateEndpoint true alone keeps it private)."""
    set_key("controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled", value=True)(inputs)
    set_key("privateClusterConfig", "enablePrivateEndpoint", value=False)(inputs)


def add_public_ip(inputs: dict) -> None:
    inputs["networkInterfaces"][0]["accessConfigs"] = [{}]


def literal_password_in_compose(inputs: dict) -> None:
    inputs["metadata"]["kestra-compose"] += "\n# appended\n      POSTGRES_PASSWORD: Xq7Lr2Vt9Kp4Wm1Zs8Nb3Hc6\n"


def publish_on_all_addresses(inputs: dict) -> None:
    inputs["ports"][0]["ip"] = "0.0.0.0"


VM_CASES = [
    ("datalake-bucket", set_key("uniformBucketLevelAccess", value=False), "bucket-uniform-access-and-public-prevention"),
    ("datalake-bucket-object-admin", set_key("member", value="allUsers"), "no-public-members"),
    ("datalake-bigquery-job-user", set_key("role", value="roles/editor"), "no-broad-project-roles"),
    ("vm-instance", set_key("metadata", "kestra-compose", value="services:\n  k:\n    image: kestra/kestra:latest\n"), "images-pinned"),
    ("vm-allow-iap", set_key("sourceRanges", value=["0.0.0.0/0"]), "firewall-no-open-ingress"),
    ("vm-instance", drop_key("shieldedInstanceConfig"), "vm-shielded"),
    ("vm-instance", set_key("serviceAccount", "email", value="123-compute@developer.gserviceaccount.com"), "vm-dedicated-service-account"),
    ("vm-instance", literal_password_in_compose, "no-plaintext-secrets"),
    ("datalake-bucket", set_key("forceDestroy", value=True), "data-protected"),
    ("vm-data", set_key("deletionPolicy", value="DELETE"), "data-protected"),
    ("datalake-dataset", drop_key("labels"), "required-labels"),
    ("datalake-dataset", set_key("location", value="EU"), "bucket-and-dataset-same-location"),
]
DOCKER_CASES = [
    ("local-image-kestra-kestra-v1-1-6", set_key("name", value="kestra/kestra:latest"), "images-pinned"),
    ("local-kestra", publish_on_all_addresses, "docker-ports-on-localhost"),
    ("local-kestra", lambda inputs: inputs["envs"].append("ADMIN_PASSWORD=k3str4"), "no-plaintext-secrets"),
    ("datalake-dataset", set_key("deleteContentsOnDestroy", value=True), "data-protected"),
]

GKE_CASES = [
    ("gke-cluster", set_key("privateClusterConfig", "enablePrivateNodes", value=False), "gke-private-nodes"),
    ("gke-cluster", drop_key("workloadIdentityConfig"), "gke-workload-identity"),
    ("gke-pool", set_key("nodeConfig", "serviceAccount", value="123-compute@developer.gserviceaccount.com"),
     "gke-node-service-account"),
    ("gke-pool", set_key("nodeConfig", "shieldedInstanceConfig", "enableSecureBoot", value=False), "gke-shielded-nodes"),
    ("gke-cluster", set_key("enableLegacyAbac", value=True), "gke-no-legacy-auth"),
    ("gke-cluster", open_public_ip_endpoint, "gke-control-plane-not-public"),
    ("gke-sql", set_key("settings", "ipConfiguration", "ipv4Enabled", value=True), "cloud-sql-private-encrypted-backed-up"),
    ("gke-sql", set_key("settings", "deletionProtectionEnabled", value=False), "data-protected"),
    ("gke-kestra", set_key("version", value="1.x"), "helm-release-pinned"),
    ("gke-kestra", set_key("values", "dind", value={"base": {"rootless": {"image": {"tag": "29.1.0-dind-rootless"}}}}),
     "kubernetes-no-privileged"),  # dind.enabled left to the chart, which turns it on
    ("gke-kestra", set_key("values", "dind", value={"enabled": True, "base": {"rootless": {"image": {"tag": "29.1.0-dind-rootless"}}}}),
     "docker-in-docker-privileged"),
    ("gke-pgadmin", set_key("spec", "template", "spec", "containers", 0, "image", value="dpage/pgadmin4:latest"),
     "images-pinned"),
]


@pytest.mark.parametrize("name, change, policy", GKE_CASES, ids=[f"{c[2]}:{c[0]}" for c in GKE_CASES])
def test_a_bypassed_safeguard_on_the_gke_plan_is_caught(gke_plan, name, change, policy):
    new = findings(resources(gke_plan, name, change)) - findings(resources(gke_plan))
    assert {p for p, _ in new} == {policy}


@pytest.mark.parametrize("name, change, policy", VM_CASES, ids=[f"{c[2]}:{c[0]}" for c in VM_CASES])
def test_a_bypassed_safeguard_on_the_vm_plan_is_caught(vm_plan, name, change, policy):
    new = findings(resources(vm_plan, name, change)) - findings(resources(vm_plan))
    assert {p for p, _ in new} == {policy}


@pytest.mark.parametrize("name, change, policy", DOCKER_CASES, ids=[f"{c[2]}:{c[0]}" for c in DOCKER_CASES])
def test_a_bypassed_safeguard_on_the_docker_plan_is_caught(docker_plan, name, change, policy):
    new = findings(resources(docker_plan, name, change)) - findings(resources(docker_plan))
    assert {p for p, _ in new} == {policy}


def test_a_public_ip_open_to_wide_ranges_trips_both_network_rules(vm_plan):
    def open_vm(items: list[Resource]) -> list[Resource]:
        for item in items:
            if item.name == "vm-instance":
                add_public_ip(item.props)
            if item.name == "vm-allow-iap":
                item.props["sourceRanges"] = ["0.0.0.0/0"]
        return items

    new = findings(open_vm(resources(vm_plan))) - findings(resources(vm_plan))
    assert new == {("vm-public-ip-restricted", "vm-instance"), ("firewall-no-open-ingress", "vm-allow-iap")}


def test_a_key_next_to_a_vm_is_advised_against(vm_plan, docker_plan):
    key = next(r for r in resources(docker_plan) if r.type == "gcp:serviceaccount/key:Key")
    [violation] = [v for v in evaluate([*resources(vm_plan), key], STACK) if v.policy == "service-account-keys-only-where-needed"]
    assert violation.level == "advisory" and violation.resource_name == key.name


def test_every_policy_of_the_pack_is_exercised_on_a_real_plan():
    covered = {case[2] for case in VM_CASES + DOCKER_CASES + GKE_CASES} | {"vm-public-ip-restricted", "service-account-keys-only-where-needed"}
    assert covered == {policy.name for policy in pack.POLICIES}
