"""The gke stack (Pulumi.gke.yaml) under Pulumi's mocks: the GCP resources the real program registers
and their inputs, and the outputs contract."""

from __future__ import annotations

import pytest
import yaml

from infra.datalake import service_account_id
from infra.gke.cluster import node_account_id
from infra.offline import plan_stack
from infra.vm_target import physical_name
from tests.infra.inventory import inventory_of, is_subset, load_inventory
from tests.infra.test_vm_stack import OUTPUTS_CONTRACT

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"


def one(plan, type_):
    (resource,) = plan.of_type(type_)
    return resource.inputs


@pytest.fixture(scope="module")
def autopilot_plan():
    return plan_stack("gke", config={"gkeMode": "autopilot"})


@pytest.fixture(scope="module")
def disposable_plan():
    return plan_stack("gke", config={"protectData": "false"})


def test_every_gcp_resource_uses_the_stacks_explicit_provider_and_kubernetes_the_clusters(gke_plan):
    providers = {(r.type.split(":")[0], r.provider) for r in gke_plan.resources
                 if r.type.split(":")[0] in ("gcp", "kubernetes")}
    assert providers == {("gcp", "gcp"), ("kubernetes", "gke-k8s")}


def test_network_has_pod_and_service_ranges_private_google_access_and_nat(gke_plan):
    subnet = one(gke_plan, "gcp:compute/subnetwork:Subnetwork")
    assert subnet["privateIpGoogleAccess"] is True
    assert {r["rangeName"] for r in subnet["secondaryIpRanges"]} == {"pods", "services"}
    nat = one(gke_plan, "gcp:compute/routerNat:RouterNat")
    assert nat["subnetworks"][0]["sourceIpRangesToNats"] == ["ALL_IP_RANGES"]
    assert one(gke_plan, "gcp:compute/network:Network")["autoCreateSubnetworks"] is False


def test_cloud_sql_peering_uses_a_vpc_peering_range_and_lets_the_network_go(gke_plan):
    address = one(gke_plan, "gcp:compute/globalAddress:GlobalAddress")
    assert (address["purpose"], address["addressType"]) == ("VPC_PEERING", "INTERNAL")
    peering = one(gke_plan, "gcp:servicenetworking/connection:Connection")
    assert peering["service"] == "servicenetworking.googleapis.com"
    assert peering["reservedPeeringRanges"] == [address["name"]]
    assert peering["deletionPolicy"] == "REMOVE_PEERING"  # ABANDON would keep the peering and the network


def test_standard_cluster_is_private_shielded_with_workload_identity_and_no_legacy_auth(gke_plan):
    cluster = one(gke_plan, CLUSTER)
    assert cluster["location"] == "us-central1-a"
    # With the IP endpoints off the API reports enablePrivateEndpoint true whatever is sent: stated so, or
    # a provider without terraform-provider-google eea306e0a1's diff suppression shows a change at every up.
    assert cluster["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": True}
    endpoints = cluster["controlPlaneEndpointsConfig"]
    assert endpoints["ipEndpointsConfig"] == {"enabled": False}
    assert endpoints["dnsEndpointConfig"] == {"allowExternalTraffic": True}
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "replace-with-your-project.svc.id.goog"}
    assert cluster["enableShieldedNodes"] is True and cluster["enableLegacyAbac"] is False
    assert cluster["masterAuth"] == {"clientCertificateConfig": {"issueClientCertificate": False}}
    assert cluster["removeDefaultNodePool"] is True and cluster["deletionProtection"] is False
    # the default pool's config matters only at creation; read back it is the first node pool's
    assert set(gke_plan.named("gke-cluster").ignore_changes) == {"nodeConfig", "initialNodeCount"}
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods",
                                             "servicesSecondaryRangeName": "services"}


def test_node_pool_autoscales_as_its_own_service_account_with_logging_and_monitoring_only(gke_plan):
    pool = one(gke_plan, NODE_POOL)
    assert pool["autoscaling"] == {"minNodeCount": 1, "maxNodeCount": 3}
    config = pool["nodeConfig"]
    assert config["machineType"] == "e2-standard-4" and config["imageType"] == "COS_CONTAINERD"
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    nodes = gke_plan.named("gke-nodes").inputs
    email = f"{nodes['accountId']}@replace-with-your-project.iam.gserviceaccount.com"
    assert config["serviceAccount"] == email == one(gke_plan, CLUSTER)["nodeConfig"]["serviceAccount"]
    roles = {m.inputs["role"] for m in gke_plan.of_type(PROJECT_MEMBER) if m.inputs["member"].endswith(email)}
    assert roles == {"roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
                     "roles/stackdriver.resourceMetadata.writer"}


def test_docker_task_runner_moves_the_pool_to_ubuntu(gke_docker_plan):
    assert one(gke_docker_plan, NODE_POOL)["nodeConfig"]["imageType"] == "UBUNTU_CONTAINERD"


def test_autopilot_is_regional_without_node_pool_and_runs_nodes_as_the_node_account(autopilot_plan):
    cluster = one(autopilot_plan, CLUSTER)
    assert cluster["enableAutopilot"] is True and cluster["location"] == "us-central1"
    assert not autopilot_plan.of_type(NODE_POOL)
    defaults = cluster["clusterAutoscaling"]["autoProvisioningDefaults"]
    assert defaults["serviceAccount"].startswith("kestra-gke-nodes@")
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True


def test_cloud_sql_is_private_encrypted_backed_up_and_protected(gke_plan):
    (instance,) = gke_plan.of_type(SQL)
    inputs = instance.inputs
    settings = inputs["settings"]
    assert inputs["databaseVersion"] == "POSTGRES_18" and settings["edition"] == "ENTERPRISE"
    assert settings["tier"] == "db-custom-1-3840"
    ip = settings["ipConfiguration"]
    assert ip["ipv4Enabled"] is False and ip["sslMode"] == "ENCRYPTED_ONLY" and ip["privateNetwork"]
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert inputs["deletionProtection"] is True and settings["deletionProtectionEnabled"] is True
    assert instance.protect is True


def test_disposable_stack_lets_cloud_sql_go(disposable_plan):
    (instance,) = disposable_plan.of_type(SQL)
    assert instance.protect is False and instance.inputs["deletionProtection"] is False
    assert not any(user.protect for user in disposable_plan.of_type("gcp:sql/user:User"))
    assert instance.inputs["settings"]["deletionProtectionEnabled"] is False


def test_databases_and_users_for_kestra_and_the_taxi_data(gke_plan):
    assert {d.inputs["name"] for d in gke_plan.of_type("gcp:sql/database:Database")} == {"kestra", "ny_taxi"}
    users = {u.inputs["name"]: u for u in gke_plan.of_type("gcp:sql/user:User")}
    assert set(users) == {"kestra", "taxi"}
    assert all("password" in u.secret_inputs and u.inputs["deletionPolicy"] == "ABANDON" for u in users.values())
    assert all(u.protect for u in users.values())  # kept with the instance; a new up updates their passwords
    assert users["kestra"].inputs["password"] != users["taxi"].inputs["password"]


def test_outputs_contract_with_port_forwards_and_a_secret_kubeconfig(gke_plan):
    outputs = gke_plan.outputs
    assert OUTPUTS_CONTRACT <= set(outputs)
    assert {"kubeconfig", "kestra_password", "kestra_kv", "pgadmin_password", "postgres_password"} <= gke_plan.secret_outputs
    assert outputs["kestra_url"] == "http://127.0.0.1:8080" and outputs["pgadmin_url"] == "http://127.0.0.1:8085"
    assert outputs["kestra_port_forward_command"] == (
        "kubectl --context gke_replace-with-your-project_us-central1-a_kestra-gke --namespace kestra "
        "port-forward --address 127.0.0.1 service/kestra 8080:8080")
    assert outputs["pgadmin_port_forward_command"].endswith("service/pgadmin 8085:8080")
    assert outputs["gke_credentials_command"] == (
        "gcloud container clusters get-credentials kestra-gke --location us-central1-a "
        "--project replace-with-your-project --dns-endpoint")
    assert (outputs["gke_cluster"], outputs["gke_location"]) == ("kestra-gke", "us-central1-a")
    assert outputs["kestra_kv"]["TAXI_POSTGRES"]["host"] == outputs["postgres_host"] == "10.70.0.3"


def test_kubeconfig_reaches_the_dns_endpoint_through_the_gke_auth_plugin(gke_plan):
    config = yaml.safe_load(gke_plan.outputs["kubeconfig"])
    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {"server": "https://gke-0123456789abcdef-offline.us-central1-a.gke.goog"}
    (user,) = config["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    provider = gke_plan.named("gke-k8s")
    assert "kubeconfig" in provider.secret_inputs


def test_plan_registers_exactly_the_inventory_resources_with_their_inputs(gke_plan):
    expected, actual = load_inventory("gke"), inventory_of(gke_plan)
    key = lambda r: (r["type"], r["name"], r["parent"])  # noqa: E731
    assert sorted(map(key, actual["resources"])) == sorted(map(key, expected["resources"])), (
        "resources changed: review, then `python -m tests.infra.inventory gke`")
    by_key = {key(r): r for r in actual["resources"]}
    for resource in expected["resources"]:
        assert is_subset(resource["inputs"], by_key[key(resource)]["inputs"]), key(resource)
    assert is_subset(expected["outputs"], actual["outputs"])


@pytest.mark.parametrize("stack", ["gke", "production-east-cluster-1", "a" * 60])
def test_node_account_id_is_valid_and_never_the_data_lakes(stack):
    account = node_account_id(physical_name(stack))
    assert len(account) <= 30 and account.endswith("-nodes") and account[0].isalpha()
    assert account != service_account_id(stack)
