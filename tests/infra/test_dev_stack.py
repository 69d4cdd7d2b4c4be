"""The real program under Pulumi's mocks with the dev stack's config (with and without a GCP
project): the resources it registers, their inputs and the stack outputs."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml

from infra.offline import REPO_ROOT, OfflinePlan, plan_stack
from kestra_ops.validation import validate_directory
from infra.services import POSTGRES_SHM_SIZE_MB
from infra.settings import COURSE_DEFAULT_EMAILS, COURSE_DEFAULT_PASSWORDS
from tests.infra.inventory import VARIANTS, inventory_of, is_subset, load_inventory
from tests.infra.raw_config import GCP_PROJECT

CONTAINER = "docker:index/container:Container"
OUTPUTS_CONTRACT = {
    "kestra_url", "kestra_username", "kestra_password", "kestra_namespace", "kestra_kv",
    "kestra_backfills", "pgadmin_url", "pgadmin_email", "pgadmin_password", "postgres_host",
    "postgres_port", "postgres_database", "postgres_username", "postgres_password",
}
SECRET_OUTPUTS = {"kestra_password", "kestra_kv", "pgadmin_password", "postgres_password"}
PLAN_FIXTURES = {"dev": "dev_plan", "dev-gcp": "dev_gcp_plan"}
FLOWS_DIR = REPO_ROOT / "flows"


@pytest.fixture(params=sorted(PLAN_FIXTURES))
def variant(request) -> str:
    return request.param


@pytest.fixture
def plan(request, variant) -> OfflinePlan:
    return request.getfixturevalue(PLAN_FIXTURES[variant])


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def test_every_variant_has_an_inventory_and_no_more():
    assert set(PLAN_FIXTURES) | {"gke"} == set(VARIANTS)  # gke's is compared in test_gke_stack


def test_plan_registers_exactly_the_inventory_resources_with_their_inputs(plan, variant):
    expected = load_inventory(variant)
    actual = inventory_of(plan)
    assert sorted((r["type"], r["name"], r["parent"]) for r in actual["resources"]) == sorted(
        (r["type"], r["name"], r["parent"]) for r in expected["resources"]), (
        "resources changed: review, then `python -m tests.infra.inventory`")
    by_name = {r["name"]: r for r in actual["resources"]}
    for resource in expected["resources"]:
        assert is_subset(resource["inputs"], by_name[resource["name"]]["inputs"]), resource["name"]
    assert is_subset(expected["outputs"], actual["outputs"])


def test_every_published_port_binds_to_loopback(plan):
    ports = [port for container in plan.of_type(CONTAINER) for port in container.inputs.get("ports", [])]
    assert len(ports) == 3
    assert {port["ip"] for port in ports} == {"127.0.0.1"}


def test_every_image_is_pinned(plan):
    images = [image.inputs["name"] for image in plan.of_type("docker:index/remoteImage:RemoteImage")]
    assert len(images) == 3
    for image in images:
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and not tag.startswith("latest"), image


def test_both_postgres_containers_get_shared_memory_for_parallel_queries(plan):
    shm = {container.name: container.inputs.get("shmSize") for container in plan.of_type(CONTAINER)}
    assert shm == {"local-kestra-postgres": POSTGRES_SHM_SIZE_MB, "local-taxi-postgres": POSTGRES_SHM_SIZE_MB,
                   "local-kestra": None, "local-pgadmin": None, "local-kestra-storage-owner": None}


def credentials_in(plan: OfflinePlan) -> list[tuple[str, str]]:
    """(where, value) for every password, login or e-mail the containers get."""
    found = []
    for container in plan.of_type(CONTAINER):
        for env in container.inputs.get("envs", []):
            key, _, value = env.partition("=")
            if re.search(r"PASSWORD|EMAIL|USER", key) and not key.endswith("_FILE"):
                found.append((f"{container.name} {key}", value))
        for upload in container.inputs.get("uploads", []):
            where = f"{container.name} {upload['file']}"
            if upload["file"].endswith("pgpass"):
                found.append((where, re.split(r"(?<!\\):", upload["content"].strip())[-1]))
            elif upload["file"].endswith(".yml"):  # Kestra's configuration files
                found += [(f"{where} {path}", text) for path, text in yaml_leaves(yaml.safe_load(upload["content"]))
                          if re.search(r"password|username", path)]
            elif upload["file"].endswith("password"):
                found.append((where, upload["content"]))
    return found


def yaml_leaves(value, path: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from yaml_leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from yaml_leaves(item, f"{path}[{index}]")
    else:
        yield path, str(value)


def test_no_course_default_credential_anywhere_in_the_inputs(plan):
    credentials = credentials_in(plan)
    # Kestra's login + password, two database passwords each in two places, pgAdmin's login + pgpass.
    assert len(credentials) >= 10
    for where, value in credentials:
        assert value not in COURSE_DEFAULT_PASSWORDS | COURSE_DEFAULT_EMAILS, where
    for resource in plan.resources:
        for text in strings_in(resource.inputs):
            for default in ("k3str4", "Admin1234!", "admin@admin.com", "admin@kestra.io"):
                assert default not in text, resource.name


def test_generated_passwords_reach_the_containers_and_outputs(plan):
    passwords = {plan.outputs[key] for key in ("kestra_password", "pgadmin_password",
                                                "postgres_password")}
    container_text = "\n".join(text for container in plan.of_type(CONTAINER)
                               for text in strings_in(container.inputs))
    for password in passwords:
        assert password.isalnum() and len(password) == 24
        assert password in container_text
    assert "${" not in container_text, "every placeholder is filled on the Docker target"


def test_secret_inputs_are_marked_secret(plan):
    containers = plan.of_type(CONTAINER)
    assert {container.name for container in containers} == {
        "local-kestra", "local-kestra-postgres", "local-taxi-postgres", "local-pgadmin", "local-kestra-storage-owner"}
    for container in containers:  # each service gets a password in a file
        if container.name != "local-kestra-storage-owner":
            assert "uploads" in container.secret_inputs, container.name
    assert "envs" in plan.named("local-kestra").secret_inputs  # SECRET_TAXI_POSTGRES_PASSWORD


def test_outputs_follow_the_contract_and_every_secret_output_is_secret(plan):
    assert OUTPUTS_CONTRACT <= set(plan.outputs)
    assert plan.secret_outputs == SECRET_OUTPUTS
    assert plan.outputs["kestra_url"] == "http://localhost:8080"
    assert plan.outputs["pgadmin_url"] == "http://localhost:8085"
    assert (plan.outputs["postgres_host"], plan.outputs["postgres_port"]) == ("localhost", 5433)
    assert plan.outputs["kestra_namespace"] == "zoomcamp"
    assert "@" in plan.outputs["kestra_username"]


def test_backfills_come_from_stack_config(plan):
    assert plan.outputs["kestra_backfills"] == [{
        "flow_id": "02_postgres_taxi_scheduled", "trigger_id": "green_schedule",
        "start": "2019-01-01T00:00:00-05:00", "end": "2019-12-31T23:59:59-05:00",
        "inputs": {"taxi": "green"}, "labels": {"backfill": "green-2019"},
    }]


def test_without_a_project_there_is_no_data_lake_and_only_the_taxi_postgres_kv(dev_plan):
    assert not [r for r in dev_plan.resources if r.type.startswith("gcp:")]
    assert set(dev_plan.outputs["kestra_kv"]) == {"TAXI_POSTGRES"}


def test_taxi_postgres_kv_names_the_database_and_the_network_the_containers_share(plan):
    network = plan.named("local-network").inputs["name"]
    assert network == "kestra-stack-dev-net"
    assert plan.outputs["kestra_kv"]["TAXI_POSTGRES"] == {
        "host": "taxi-postgres", "port": 5432, "database": "ny_taxi", "username": "taxi",
        "docker_network": network}
    for container in plan.of_type(CONTAINER):
        [attachment] = container.inputs["networksAdvanced"]
        assert attachment["name"] == network, container.name


def test_kestra_gets_the_taxi_password_as_an_oss_secret_in_base64(plan):
    envs = dict(env.split("=", 1) for env in plan.named("local-kestra").inputs["envs"])
    password = plan.outputs["postgres_password"]
    encoded = envs["SECRET_TAXI_POSTGRES_PASSWORD"]
    assert encoded == base64.b64encode(password.encode()).decode()
    assert base64.b64decode(encoded, validate=True).decode() == password
    assert "envs" in plan.named("local-kestra").secret_inputs


def test_flow_validation_with_the_stacks_kv_keys_finds_every_key_the_dbt_flow_reads(plan, variant):
    report = validate_directory(FLOWS_DIR, kv_keys=set(plan.outputs["kestra_kv"]))
    assert "03_postgres_dbt" in {flow.id for flow in report.flows}
    assert report.errors == ()
    assert not [warning for warning in report.warnings if "03_postgres_dbt" in warning]
    if variant == "dev-gcp":  # every kv() read of every flow is set
        assert report.warnings == ()
    else:  # without a project the GCP flows' reads are missing: the check does report them
        assert any("06_gcp_taxi.yaml" in detail and "GCP_BUCKET_NAME" in detail for detail in report.details)
        assert any("need the data lake" in warning and "06_gcp_taxi" in warning for warning in report.warnings)


def test_kestra_kv_is_built_from_the_data_lake(dev_gcp_plan):
    kv = dev_gcp_plan.outputs["kestra_kv"]
    bucket = dev_gcp_plan.named("datalake-bucket").inputs
    dataset = dev_gcp_plan.named("datalake-dataset").inputs
    account = dev_gcp_plan.named("datalake-sa").inputs
    assert kv["GCP_PROJECT_ID"] == GCP_PROJECT
    assert kv["GCP_LOCATION"] == bucket["location"] == dataset["location"] == "US"
    assert kv["GCP_BUCKET_NAME"] == bucket["name"] == f"{GCP_PROJECT}-zoomcamp"
    assert kv["GCP_DATASET"] == dataset["datasetId"] == "zoomcamp"
    creds = kv["GCP_CREDS"]
    assert isinstance(creds, dict) and creds["type"] == "service_account"
    assert creds["client_email"] == f"{account['accountId']}@{GCP_PROJECT}.iam.gserviceaccount.com"
    json.dumps(kv)  # plain JSON values, as `ops seed-kv` pushes them


def test_bucket_is_private_uniform_and_force_destroyed_only_because_dev_says_so(dev_gcp_plan):
    bucket = dev_gcp_plan.named("datalake-bucket").inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["lifecycleRules"]
    assert bucket["labels"] == {"app": "kestra-stack", "env": "dev", "managed-by": "pulumi"}
    assert bucket["forceDestroy"] is True  # Pulumi.dev.yaml: protectData false
    assert dev_gcp_plan.named("datalake-dataset").inputs["deleteContentsOnDestroy"] is True


def test_iam_is_per_resource_with_only_bigquery_job_user_at_project_level(dev_gcp_plan):
    member = "serviceAccount:" + dev_gcp_plan.outputs["gcp_service_account_email"]
    project_roles = [r.inputs for r in dev_gcp_plan.of_type("gcp:projects/iAMMember:IAMMember")]
    assert project_roles == [{"project": GCP_PROJECT, "role": "roles/bigquery.jobUser",
                              "member": member}]
    for resource in dev_gcp_plan.resources:
        role = resource.inputs.get("role", "")
        if resource.type.startswith("gcp:projects/"):
            assert not any(word in role.lower() for word in ("owner", "editor", "viewer", "admin"))
    bucket_iam = [r.inputs for r in dev_gcp_plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")]
    assert sorted(bucket_iam, key=lambda grant: grant["role"]) == [
        {"bucket": f"{GCP_PROJECT}-zoomcamp", "role": role, "member": member}
        for role in ("roles/storage.legacyBucketReader", "roles/storage.objectAdmin")]
    [dataset_iam] = dev_gcp_plan.of_type("gcp:bigquery/datasetIamMember:DatasetIamMember")
    assert dataset_iam.inputs["datasetId"] == "zoomcamp"
    assert dataset_iam.inputs["role"] == "roles/bigquery.dataEditor"


def test_service_account_key_exists_for_docker_and_is_a_secret_output(dev_gcp_plan):
    [key] = dev_gcp_plan.of_type("gcp:serviceaccount/key:Key")
    assert key.parent == "datalake"
    assert "kestra_kv" in dev_gcp_plan.secret_outputs


def test_components_own_their_children(plan):
    for resource in plan.resources:
        # Components and the providers they share (infra.gcp_provider) are the only top-level resources.
        if resource.type.startswith(("kestra-stack:", "pulumi:providers:")):
            assert resource.parent is None
        else:
            assert resource.parent is not None, resource.name
            assert resource.name.startswith(f"{resource.parent}-"), resource.name


def test_dev_data_is_not_protected(dev_gcp_plan):
    for resource in dev_gcp_plan.resources:
        assert not resource.protect and not resource.retain_on_delete, resource.name


def test_protect_data_keeps_bucket_dataset_and_volumes_through_destroy():
    plan = plan_stack("dev", config={"gcpProject": GCP_PROJECT, "protectData": "true"})
    bucket, dataset = plan.named("datalake-bucket"), plan.named("datalake-dataset")
    assert bucket.inputs["forceDestroy"] is False and bucket.protect
    assert dataset.inputs["deleteContentsOnDestroy"] is False and dataset.protect
    volumes = plan.of_type("docker:index/volume:Volume")
    assert len(volumes) == 4 and all(volume.retain_on_delete for volume in volumes)
