"""How secrets reach the containers, on both targets: as files wherever the image reads one (the
images' `*_FILE` variables, Kestra's configuration files), built from values so that a password with
any punctuation Kestra allows arrives intact; in the environment only Kestra's base64 `SECRET_*`."""

from __future__ import annotations

import base64

import pytest
import yaml

from infra.offline import OfflinePlan, plan_stack
from infra.settings import parse_settings
from infra.services import (
    build_service_set,
    KESTRA_CONFIG_FILE,
    KESTRA_SECRET_CONFIG_FILE,
    PGADMIN_PASSWORD_FILE,
    POSTGRES_PASSWORD_FILE,
)
from infra.vm.compose import SECRETS_DIR
from tests.infra.kestra_files import merged_configuration
from tests.infra.raw_config import PUNCTUATION_PASSWORD, raw_config
from tests.infra.validators import compose_resolved
from tests.infra.vm_plan import listed_secrets, metadata, plan_sandbox

CONTAINER = "docker:index/container:Container"
PASSWORD_OUTPUTS = ("kestra_password", "pgadmin_password", "postgres_password")
# Pasted into YAML text these break the document or change its meaning (a tag, a comment, a mapping, an
# alias, an anchor, a flow mapping).
YAML_HOSTILE = ["!Secret123", "Abcdefg1 #x", "Pass: Word1", "*Abcdefg1", "&Abcdefg1", "{Abcdefg1}"]


@pytest.fixture(scope="module")
def docker_plan() -> OfflinePlan:
    return plan_stack("dev", config={"kestraPassword": PUNCTUATION_PASSWORD})


@pytest.fixture(scope="module")
def vm_plan() -> OfflinePlan:
    return plan_stack("prod", config={"kestraPassword": PUNCTUATION_PASSWORD})


def envs_of(plan: OfflinePlan, name: str) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in plan.named(name).inputs.get("envs", []))


def uploads_of(plan: OfflinePlan, name: str) -> dict[str, dict]:
    return {upload["file"]: upload for upload in plan.named(name).inputs.get("uploads", [])}


def every_password(plan: OfflinePlan) -> list[str]:
    """The stack's passwords, and the Kestra database password (no output: read from its file)."""
    database = uploads_of(plan, "local-kestra-postgres")[POSTGRES_PASSWORD_FILE]["content"]
    return [plan.outputs[key] for key in PASSWORD_OUTPUTS] + [database]


def test_no_password_is_in_any_containers_environment_only_kestras_base64_secret(docker_plan):
    passwords = every_password(docker_plan)
    for container in docker_plan.of_type(CONTAINER):
        for key, value in envs_of(docker_plan, container.name).items():
            assert not any(password in value for password in passwords), f"{container.name} {key}"
    kestra_env = envs_of(docker_plan, "local-kestra")
    assert "KESTRA_CONFIGURATION" not in kestra_env
    assert kestra_env["MICRONAUT_CONFIG_FILES"] == f"{KESTRA_CONFIG_FILE},{KESTRA_SECRET_CONFIG_FILE}"
    taxi = docker_plan.outputs["postgres_password"]
    assert kestra_env["SECRET_TAXI_POSTGRES_PASSWORD"] == base64.b64encode(taxi.encode()).decode()


@pytest.mark.parametrize(("container", "variable", "path", "output", "owner"), [
    ("local-taxi-postgres", "POSTGRES_PASSWORD_FILE", POSTGRES_PASSWORD_FILE, "postgres_password", "999"),
    ("local-pgadmin", "PGADMIN_DEFAULT_PASSWORD_FILE", PGADMIN_PASSWORD_FILE, "pgadmin_password", "5050"),
])
def test_images_read_their_password_from_a_file_no_one_can_write(docker_plan, container, variable, path,
                                                                           output, owner):
    assert envs_of(docker_plan, container)[variable] == path
    assert not {key for key in envs_of(docker_plan, container) if key.endswith("PASSWORD")}
    upload = uploads_of(docker_plan, container)[path]
    assert upload["content"] == docker_plan.outputs[output]  # the whole file, no newline added
    # Readable as "other" too: the provider may write it as root (infra/docker_target.py upload_mode).
    assert (upload["owner"], upload["permissions"]) == (owner, "0404")
    assert "uploads" in docker_plan.named(container).secret_inputs


@pytest.mark.parametrize("password", YAML_HOSTILE)
def test_kestras_configuration_carries_yaml_syntax_in_a_password_as_text(password):
    plan = plan_stack("dev", config={"kestraPassword": password})
    secret = yaml.safe_load(uploads_of(plan, "local-kestra")[KESTRA_SECRET_CONFIG_FILE]["content"])
    assert secret["kestra"]["server"]["basic-auth"]["password"] == password


def test_kestras_configuration_carries_a_punctuated_password_intact_on_docker(docker_plan):
    uploads = uploads_of(docker_plan, "local-kestra")
    public = yaml.safe_load(uploads[KESTRA_CONFIG_FILE]["content"])
    secret = yaml.safe_load(uploads[KESTRA_SECRET_CONFIG_FILE]["content"])
    assert "password" not in str(public)
    config = merged_configuration(public, secret)
    assert config["kestra"]["server"]["basic-auth"] == {"username": "zoomcamp@example.com",
                                                        "password": PUNCTUATION_PASSWORD}
    assert uploads[KESTRA_SECRET_CONFIG_FILE]["permissions"] == "0404"
    # The image's own user (kestra, uid 1000) reads it: Kestra runs as that user unless the Docker
    # task runner needs root.
    assert uploads[KESTRA_SECRET_CONFIG_FILE]["owner"] == "1000"
    assert docker_plan.named("local-kestra").inputs.get("user") is None


@pytest.mark.validators
def test_kestras_configuration_carries_a_punctuated_password_intact_on_the_vm(tmp_path, vm_plan):
    listed = listed_secrets(vm_plan)
    vm = plan_sandbox(tmp_path, vm_plan)
    run = vm.boot()
    assert run.returncode == 0, run.output
    assert PUNCTUATION_PASSWORD not in run.output
    resolved = yaml.safe_load(compose_resolved(vm.state / "compose-file-seen", vm.path("/run/kestra-stack/secrets.env")))
    kestra = resolved["services"]["kestra"]
    assert not any(PUNCTUATION_PASSWORD in str(value) for value in kestra["environment"].values())
    [mount] = [entry for entry in kestra["secrets"] if entry["target"] == KESTRA_SECRET_CONFIG_FILE]
    host_file = resolved["secrets"][mount["source"]]["file"]
    assert host_file.startswith(SECRETS_DIR + "/")
    secret = yaml.safe_load(vm.path(host_file).read_text())  # what the container reads, as the boot wrote it
    assert secret["kestra"]["server"]["basic-auth"]["password"] == PUNCTUATION_PASSWORD
    assert listed[mount["source"]].owner == 1000 and listed[mount["source"]].mode == 0o400


def test_kestra_runs_as_root_only_for_the_docker_task_runner_and_its_storage_is_given_to_its_user_first(
        docker_plan):
    owner = docker_plan.named("local-kestra-storage-owner").inputs
    kestra = docker_plan.named("local-kestra").inputs
    assert owner["user"] == "root" and owner["entrypoints"][:2] == ["find", "/app/storage"]
    assert owner["entrypoints"][-4:] == ["--no-dereference", "1000:1000", "{}", "+"]
    [storage] = [mount for mount in kestra["volumes"] if mount["containerPath"] == "/app/storage"]
    assert storage in owner["volumes"]
    # Run to its end before Kestra is created, then left stopped without a diff.
    assert (owner["attach"], owner["mustRun"], owner["wait"]) == (True, False, False)
    assert "kestra-storage-owner" in build_service_set(parse_settings(raw_config())).service("kestra").depends_on
    root = plan_stack("dev", config={"enableDockerTaskRunner": "true"})
    assert root.named("local-kestra").inputs["user"] == "root"
    assert not [c for c in root.of_type(CONTAINER) if c.name == "local-kestra-storage-owner"]
    assert uploads_of(root, "local-kestra")[KESTRA_SECRET_CONFIG_FILE]["owner"] == "0"


@pytest.mark.validators
def test_on_the_vm_kestra_waits_for_the_storage_owner_step_to_complete(tmp_path, vm_plan):
    compose = yaml.safe_load(metadata(vm_plan)["kestra-compose"])
    owner, kestra = compose["services"]["kestra-storage-owner"], compose["services"]["kestra"]
    assert "user" not in kestra and owner["user"] == "root" and owner["restart"] == "no"
    assert kestra["depends_on"]["kestra-storage-owner"] == {"condition": "service_completed_successfully"}
    compose_file, env_file = tmp_path / "compose.yaml", tmp_path / "secrets.env"
    compose_file.write_text(metadata(vm_plan)["kestra-compose"])
    env_file.write_text("TAXI_DB_PASSWORD_BASE64=QWJjMTIz\n")
    resolved = yaml.safe_load(compose_resolved(compose_file, env_file))["services"]
    assert resolved["kestra-storage-owner"]["entrypoint"][:2] == ["find", "/app/storage"]
