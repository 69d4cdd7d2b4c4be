"""The prod stack (Pulumi.prod.yaml, the VM target) under Pulumi's mocks: the resources the real program
registers and their properties."""

from __future__ import annotations

import base64
import ipaddress
import json
import re

import pytest
import yaml

from infra.offline import OfflinePlan, load_stack_config, plan_stack
from infra.services import KESTRA_CONFIG_FILE, build_service_set
from infra.settings import parse_settings
from infra.vm.compose import render_compose
from infra.vm.network import IAP_RANGE
from infra.vm_target import BOOT_SCRIPT
from tests.infra.kestra_files import merged_configuration
from tests.infra.vm_plan import INSTANCE, SECRET_VERSION, instance_of, listed_secrets, metadata, secret_data

FIREWALL = "gcp:compute/firewall:Firewall"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:serviceaccount/key:Key"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_READER = "gcp:secretmanager/secretIamMember:SecretIamMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
OPERATOR_CIDR = "203.0.113.7/32"
EXTERNAL = {"vmExternalIp": "true", "vmAllowedCidrs": json.dumps([OPERATOR_CIDR])}
OUTPUTS_CONTRACT = {
    "kestra_url", "kestra_username", "kestra_password", "kestra_namespace", "kestra_kv",
    "kestra_backfills", "pgadmin_url", "pgadmin_email", "pgadmin_password", "postgres_host",
    "postgres_port", "postgres_database", "postgres_username", "postgres_password",
}


@pytest.fixture
def prod(prod_plan) -> OfflinePlan:
    return prod_plan


@pytest.fixture(scope="module")
def prod_external() -> OfflinePlan:
    return plan_stack("prod", config=EXTERNAL)


@pytest.fixture(scope="module")
def prod_gcs() -> OfflinePlan:
    return plan_stack("prod", config={"kestraStorage": "gcs"})


def vm_email(plan: OfflinePlan) -> str:
    return instance_of(plan).inputs["serviceAccount"]["email"]


def kestra_configuration(plan: OfflinePlan) -> dict:
    """Kestra's public configuration (a compose config) merged with its secret one (Secret Manager)."""
    compose = yaml.safe_load(metadata(plan)["kestra-compose"])
    [config] = [entry["source"] for entry in compose["services"]["kestra"]["configs"]
                if entry["target"] == KESTRA_CONFIG_FILE]
    public = yaml.safe_load(compose["configs"][config]["content"])
    return merged_configuration(public, yaml.safe_load(secret_data(plan)["kestra-config"]))


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [str(key), *strings_in(item)]]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def test_prod_plans_the_vm_target_with_the_outputs_contract(prod):
    assert len(prod.of_type(INSTANCE)) == 1
    assert OUTPUTS_CONTRACT <= set(prod.outputs)
    assert {"kestra_password", "kestra_kv", "pgadmin_password", "postgres_password"} <= prod.secret_outputs


def test_vm_has_no_public_ip_by_default(prod):
    (interface,) = instance_of(prod).inputs["networkInterfaces"]
    assert not interface.get("accessConfigs")
    assert not prod.of_type("gcp:compute/address:Address")


def test_external_ip_is_opt_in_and_the_url_uses_it(prod_external):
    (address,) = prod_external.of_type("gcp:compute/address:Address")
    (interface,) = instance_of(prod_external).inputs["networkInterfaces"]
    assert [config["natIp"] for config in interface["accessConfigs"]] == ["203.0.113.10"]
    assert prod_external.outputs["kestra_url"] == "http://203.0.113.10:8080"
    assert address.inputs["addressType"] == "EXTERNAL"


def test_vm_is_a_shielded_vm(prod):
    assert instance_of(prod).inputs["shieldedInstanceConfig"] == {
        "enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}


def test_vm_runs_as_the_stacks_own_service_account_without_a_key(prod):
    accounts = {f"{a.inputs['accountId']}@{a.inputs['project']}.iam.gserviceaccount.com"
                for a in prod.of_type(ACCOUNT)}
    email = vm_email(prod)
    assert email in accounts
    assert not email.endswith("-compute@developer.gserviceaccount.com")
    assert instance_of(prod).inputs["serviceAccount"]["scopes"] == [
        "https://www.googleapis.com/auth/cloud-platform"]
    assert not prod.of_type(KEY)
    assert "GCP_CREDS" not in prod.outputs["kestra_kv"]


def test_kestra_gcp_plugins_use_the_vm_identity_not_a_key(prod):
    defaults = {entry["type"]: entry["values"] for entry in kestra_configuration(prod)["kestra"]["plugins"]["defaults"]}
    assert defaults["io.kestra.plugin.gcp"] == {"projectId": "{{ kv('GCP_PROJECT_ID') }}"}


def test_vm_identity_gets_only_the_data_lake_roles_and_log_metric_writing(prod):
    member = f"serviceAccount:{vm_email(prod)}"
    project_roles = sorted(r.inputs["role"] for r in prod.of_type(PROJECT_MEMBER) if r.inputs["member"] == member)
    assert project_roles == ["roles/bigquery.jobUser", "roles/logging.logWriter", "roles/monitoring.metricWriter"]
    assert sorted(r.inputs["role"] for r in prod.of_type(BUCKET_MEMBER) if r.inputs["member"] == member) == [
        "roles/storage.legacyBucketReader", "roles/storage.objectAdmin"]


@pytest.mark.parametrize("fixture", ["prod", "prod_external"])
def test_firewall_sources_are_only_iap_or_the_configured_cidrs(request, fixture):
    plan = request.getfixturevalue(fixture)
    rules = plan.of_type(FIREWALL)
    assert rules
    allowed = {IAP_RANGE} | ({OPERATOR_CIDR} if fixture == "prod_external" else set())
    sources = {cidr for rule in rules for cidr in rule.inputs["sourceRanges"]}
    assert sources == allowed
    for cidr in sources:
        assert ipaddress.ip_network(cidr).prefixlen > 0
    for rule in rules:
        assert rule.inputs["direction"] == "INGRESS"
        assert rule.inputs["targetServiceAccounts"] == [vm_email(plan)]


@pytest.mark.parametrize("fixture", ["prod", "prod_external"])
def test_only_ssh_and_kestras_api_port_are_reachable_and_only_iap_gets_ssh(request, fixture):
    plan = request.getfixturevalue(fixture)
    for rule in plan.of_type(FIREWALL):
        ports = {port for allow in rule.inputs["allows"] for port in allow["ports"]}
        assert {allow["protocol"] for allow in rule.inputs["allows"]} == {"tcp"}
        expected = {"22", "8080"} if rule.inputs["sourceRanges"] == [IAP_RANGE] else {"8080"}
        assert ports == expected, rule.name  # never 8081, 5432/5433 (Postgres) or 8085 (pgAdmin)


def test_generated_secrets_never_appear_in_metadata_or_any_plain_input(prod):
    versions = prod.of_type(SECRET_VERSION)
    values = {version.inputs["secretData"] for version in versions}
    # Five secret files (two Postgres passwords, pgAdmin's password and pgpass, Kestra's secret
    # configuration) and one environment value (Kestra's base64 SECRET_TAXI_POSTGRES_PASSWORD).
    assert len(values) == len(versions) == 6 and all(len(value) >= 16 for value in values)
    assert all("secretData" in version.secret_inputs for version in versions)
    for resource in prod.resources:
        if resource.type == SECRET_VERSION:
            continue
        for text in strings_in(resource.inputs):
            leaked = [value for value in values if value in text]
            assert not leaked, f"a generated secret appears in {resource.name}"
    scanned = "\n".join(strings_in(metadata(prod)))
    assert "startup-script" in metadata(prod) and "kestra-compose" in metadata(prod)
    assert not any(value in scanned for value in values)


def test_a_configured_kestra_password_stays_out_of_metadata_too():
    configured = "Configured9Password"
    plan = plan_stack("prod", config={"kestraPassword": configured})
    versions = [v.inputs["secretData"] for v in plan.of_type(SECRET_VERSION)]
    assert any(configured in version for version in versions)
    assert configured not in json.dumps(instance_of(plan).inputs)


def test_each_secret_is_readable_only_by_the_vm_account(prod):
    secrets = {secret.inputs["secretId"] for secret in prod.of_type(SECRET)}
    readers = prod.of_type(SECRET_READER)
    assert {reader.inputs["secretId"] for reader in readers} == secrets
    for reader in readers:
        assert reader.inputs["role"] == "roles/secretmanager.secretAccessor"
        assert reader.inputs["member"] == f"serviceAccount:{vm_email(prod)}"
    assert not [member for member in prod.of_type(PROJECT_MEMBER) if "secretmanager" in member.inputs["role"]]


def test_metadata_names_a_secret_for_every_compose_placeholder_and_secret_file(prod):
    listed = listed_secrets(prod)
    placeholders = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", metadata(prod)["kestra-compose"]))
    assert placeholders and placeholders == {name for name, entry in listed.items() if entry.kind == "env"}
    compose = yaml.safe_load(metadata(prod)["kestra-compose"])
    assert set(compose["secrets"]) == {name for name, entry in listed.items() if entry.kind == "file"}
    project = instance_of(prod).inputs["project"]
    secret_ids = {secret.inputs["secretId"] for secret in prod.of_type(SECRET)}
    assert {entry.resource.removeprefix(f"projects/{project}/secrets/") for entry in listed.values()} == secret_ids


def test_secret_manager_holds_the_taxi_password_and_its_base64_form_and_compose_only_a_placeholder(prod):
    values = secret_data(prod)
    assert values["taxi-postgres-password"] == prod.outputs["postgres_password"]
    assert values["TAXI_DB_PASSWORD_BASE64"] == base64.b64encode(prod.outputs["postgres_password"].encode()).decode()
    compose = yaml.safe_load(metadata(prod)["kestra-compose"])
    kestra_env = compose["services"]["kestra"]["environment"]
    assert kestra_env["SECRET_TAXI_POSTGRES_PASSWORD"] == "${TAXI_DB_PASSWORD_BASE64}"


def test_taxi_postgres_kv_names_the_compose_network(prod):
    compose = yaml.safe_load(metadata(prod)["kestra-compose"])
    assert prod.outputs["kestra_kv"]["TAXI_POSTGRES"] == {
        "host": "taxi-postgres", "port": 5432, "database": "ny_taxi", "username": "taxi",
        "docker_network": compose["networks"]["default"]["name"]}
    assert compose["networks"]["default"]["name"] == "kestra-stack-net"


def test_metadata_carries_the_tested_boot_script_and_the_rendered_service_set(prod):
    values, _ = load_stack_config("prod")
    assert metadata(prod)["kestra-compose"] == render_compose(build_service_set(parse_settings(values)))
    assert metadata(prod)["startup-script"] == BOOT_SCRIPT.read_text()
    assert (metadata(prod)["enable-oslogin"], metadata(prod)["block-project-ssh-keys"]) == ("TRUE", "TRUE")


def test_vm_sits_in_its_own_subnet_with_private_google_access_and_outbound_nat(prod):
    (network,) = prod.of_type("gcp:compute/network:Network")
    (subnet,) = prod.of_type("gcp:compute/subnetwork:Subnetwork")
    (nat,) = prod.of_type("gcp:compute/routerNat:RouterNat")
    assert network.inputs["autoCreateSubnetworks"] is False
    assert subnet.inputs["privateIpGoogleAccess"] is True
    assert instance_of(prod).inputs["networkInterfaces"][0]["subnetwork"] == f"{subnet.name}-id"
    assert [entry["name"] for entry in nat.inputs["subnetworks"]] == [f"{subnet.name}-id"]


def test_data_disk_is_separate_attached_and_protected_in_prod(prod):
    disk = prod.named("vm-data")
    assert disk.protect and disk.inputs["deletionPolicy"] == "PREVENT"
    (attached,) = instance_of(prod).inputs["attachedDisks"]
    assert attached == {"source": disk.inputs["name"], "deviceName": "kestra-data", "mode": "READ_WRITE"}
    assert instance_of(prod).inputs["bootDisk"]["initializeParams"]["image"] == "debian-cloud/debian-12"


def test_bucket_and_dataset_are_protected_in_prod(prod):
    (bucket,) = prod.of_type("gcp:storage/bucket:Bucket")
    (dataset,) = prod.of_type("gcp:bigquery/dataset:Dataset")
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    assert dataset.protect and dataset.inputs["deleteContentsOnDestroy"] is False


def test_without_protect_data_the_disk_can_be_destroyed():
    plan = plan_stack("prod", config={"protectData": "false"})
    disk = plan.named("vm-data")
    assert not disk.protect and disk.inputs["deletionPolicy"] == "DELETE"


def test_every_container_image_on_the_vm_is_pinned(prod):
    compose = yaml.safe_load(metadata(prod)["kestra-compose"])
    images = [service["image"] for service in compose["services"].values()]
    assert len(images) == 5  # the four services and Kestra's storage-owner step
    for image in images:
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and not tag.startswith("latest"), image


def test_kestra_url_is_the_local_end_of_the_iap_tunnel(prod):
    assert prod.outputs["kestra_url"] == "http://127.0.0.1:8080"
    assert prod.outputs["kestra_tunnel_command"] == (
        "gcloud compute start-iap-tunnel kestra-prod 8080 --local-host-port=localhost:8080 "
        "--zone us-central1-a --project replace-with-your-project")


def test_tunnel_port_setting_moves_the_local_end_only():
    plan = plan_stack("prod", config={"vmTunnelPort": "9090"})
    assert plan.outputs["kestra_url"] == "http://127.0.0.1:9090"
    assert "kestra-prod 8080 --local-host-port=localhost:9090" in plan.outputs["kestra_tunnel_command"]


def test_pgadmin_and_postgres_are_reached_through_an_ssh_tunnel(prod):
    assert prod.outputs["pgadmin_url"] == "http://127.0.0.1:8085"
    assert (prod.outputs["postgres_host"], prod.outputs["postgres_port"]) == ("127.0.0.1", 5433)
    assert prod.outputs["ssh_tunnel_command"].endswith(
        "--tunnel-through-iap -- -N -L 8085:127.0.0.1:8085 -L 5433:127.0.0.1:5433")


def test_kestra_storage_gcs_puts_kestras_storage_in_the_bucket_the_vm_may_write(prod_gcs):
    storage = kestra_configuration(prod_gcs)["kestra"]["storage"]
    (bucket,) = prod_gcs.of_type("gcp:storage/bucket:Bucket")
    assert storage["type"] == "gcs"
    assert storage["gcs"] == {"bucket": bucket.inputs["name"], "project-id": bucket.inputs["project"]}
    writers = [m for m in prod_gcs.of_type(BUCKET_MEMBER) if m.inputs["member"] == f"serviceAccount:{vm_email(prod_gcs)}"]
    assert sorted(m.inputs["role"] for m in writers) == ["roles/storage.legacyBucketReader", "roles/storage.objectAdmin"]


def test_local_storage_is_the_default(prod):
    assert kestra_configuration(prod)["kestra"]["storage"]["type"] == "local"
