"""The VM's compose file, rendered from the service set, checked by the real Docker Compose v2 binary and
the compose-spec JSON schema; broken files show that both validators do reject."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
import yaml

from infra.offline import load_stack_config
from infra.services import BASE64_OF, ServiceSet, build_service_set
from infra.settings import parse_settings
from infra.vm.compose import NETWORK_NAME, SECRETS_DIR, escape, render_compose
from tests.infra.validators import compose_config, compose_resolved, compose_schema_errors

VARIANTS = {
    "prod": {},
    "prod-gcs-docker-runner": {"kestraStorage": "gcs", "enableDockerTaskRunner": "true"},
}


def service_set(**overrides: str) -> ServiceSet:
    values, _ = load_stack_config("prod", overrides=overrides)
    return build_service_set(parse_settings(values))


def secret_values(services: ServiceSet) -> dict[str, str]:
    """Alphanumeric like the generated passwords, distinct per secret; a derived secret holds the base64
    form of its source (here with '=' padding)."""
    values = {name: f"Val{index}{name.title().replace('_', '')}9z" for index, name in enumerate(services.secrets)}
    for name, source in BASE64_OF.items():
        values[name] = base64.b64encode(values[source].encode()).decode()
    return values


def write_project(directory: Path, compose_text: str, values: dict[str, str]) -> tuple[Path, Path]:
    compose_file = directory / "compose.yaml"
    env_file = directory / "secrets.env"
    compose_file.write_text(compose_text)
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return compose_file, env_file


@pytest.fixture(params=sorted(VARIANTS))
def rendered(request, tmp_path) -> tuple[ServiceSet, Path, Path]:
    services = service_set(**VARIANTS[request.param])
    return (services, *write_project(tmp_path, render_compose(services), secret_values(services)))


@pytest.mark.validators
def test_rendered_compose_passes_docker_compose_config(rendered):
    _, compose_file, env_file = rendered
    result = compose_config(compose_file, env_file)
    assert result.ok, result.output
    assert result.output == ""  # not even a warning (an unset variable would be one)


@pytest.mark.validators
def test_rendered_compose_passes_the_compose_spec_schema(rendered):
    _, compose_file, _ = rendered
    assert compose_schema_errors(compose_file) == []


@pytest.mark.validators
def test_compose_fills_only_the_env_secrets_from_the_env_file_and_mounts_the_secret_files(rendered):
    services, compose_file, env_file = rendered
    result = compose_resolved(compose_file, env_file)
    values = secret_values(services)
    assert "${" not in result
    assert services.env_secrets() == ("TAXI_DB_PASSWORD_BASE64",)
    assert [name for name, value in values.items() if value in result] == ["TAXI_DB_PASSWORD_BASE64"]
    assert not any(value in compose_file.read_text() for value in values.values())
    resolved = yaml.safe_load(result)
    for file in services.secret_files():
        assert resolved["secrets"][file.name]["file"] == f"{SECRETS_DIR}/{file.name}"
    for service in services.services:
        mounted = {(entry["source"], entry["target"]) for entry in resolved["services"][service.name].get("secrets", [])}
        assert mounted == {(file.name, file.path) for file in service.secret_files}, service.name
    kestra_env = yaml.safe_load(result)["services"]["kestra"]["environment"]
    assert "=" in values["TAXI_DB_PASSWORD_BASE64"]
    assert kestra_env["SECRET_TAXI_POSTGRES_PASSWORD"] == values["TAXI_DB_PASSWORD_BASE64"]


@pytest.mark.validators
def test_every_service_joins_the_named_network_the_dbt_task_containers_join(rendered):
    _, compose_file, env_file = rendered
    resolved = yaml.safe_load(compose_resolved(compose_file, env_file))
    assert resolved["networks"] == {"default": {"name": NETWORK_NAME}}
    for name, service in resolved["services"].items():
        assert set(service["networks"]) == {"default"}, name


@pytest.mark.validators
def test_both_postgres_services_get_shared_memory_for_parallel_queries(rendered):
    _, compose_file, env_file = rendered
    resolved = yaml.safe_load(compose_resolved(compose_file, env_file))["services"]
    assert {name: service.get("shm_size") for name, service in resolved.items()} == {
        name: "268435456" if name.endswith("-postgres") else None for name in resolved}
    assert {"kestra-postgres", "taxi-postgres", "kestra", "pgadmin"} <= set(resolved)


@pytest.mark.validators
def test_literal_dollars_survive_compose_interpolation(tmp_path):
    services = service_set()
    kestra = services.service("kestra")
    literal = "price $5, ${HOME} and $$ stay literal; ${KESTRA_PASSWORD} is filled"
    environment = MappingProxyType({**kestra.environment, "LITERAL": literal})
    patched = replace(services, services=tuple(
        replace(service, environment=environment) if service.name == "kestra" else service
        for service in services.services))
    values = secret_values(services)
    compose_file, env_file = write_project(tmp_path, render_compose(patched), values)
    resolved = yaml.safe_load(compose_resolved(compose_file, env_file))
    # `config` prints a file compose can read again, so it writes each literal `$` escaped as `$$`.
    container_value = resolved["services"]["kestra"]["environment"]["LITERAL"].replace("$$", "$")
    assert container_value == literal.replace(
        "${KESTRA_PASSWORD}", values["KESTRA_PASSWORD"])


def test_escape_keeps_only_the_stacks_secret_placeholders():
    assert escape("a $b ${S} ${T} $$", ["S"]) == "a $$b ${S} $${T} $$$$"


def test_only_kestras_api_port_listens_beyond_the_vms_loopback():
    compose = yaml.safe_load(render_compose(service_set(bindAddress="0.0.0.0")))
    published = {(name, port["target"]): port.get("host_ip")
                 for name, service in compose["services"].items() for port in service.get("ports", [])}
    assert published == {("kestra", 8080): None, ("taxi-postgres", 5432): "127.0.0.1",
                         ("pgadmin", 80): "127.0.0.1"}


def test_public_files_become_configs_owned_by_their_user_and_secret_files_compose_secrets():
    compose = yaml.safe_load(render_compose(service_set()))
    pgadmin_configs = {config["target"]: config for config in compose["services"]["pgadmin"]["configs"]}
    # servers.json and the start-up step (infra/credential_sync), both read by pgAdmin's uid.
    assert set(pgadmin_configs) == {"/pgadmin4/servers.json", "/pgadmin4/kestra_stack_credentials.py"}
    assert {config["uid"] for config in pgadmin_configs.values()} == {"5050"}
    assert {entry["target"]: entry["source"] for entry in compose["services"]["pgadmin"]["secrets"]} == {
        "/pgadmin4/pgpass": "pgadmin-pgpass", "/run/secrets/pgadmin-password": "pgadmin-password"}
    assert compose["secrets"]["pgadmin-pgpass"] == {"file": f"{SECRETS_DIR}/pgadmin-pgpass"}


def test_every_volume_is_a_named_volume_the_boot_script_keeps_on_the_data_disk():
    compose = yaml.safe_load(render_compose(service_set()))
    mounts = [mount for service in compose["services"].values() for mount in service.get("volumes", [])]
    assert {mount["type"] for mount in mounts} == {"volume"}
    assert {mount["source"] for mount in mounts} == set(compose["volumes"]) == {
        "kestra-postgres-data", "taxi-postgres-data", "kestra-storage", "pgadmin-data"}


def broken(compose_file: Path, edit) -> Path:
    document = yaml.safe_load(compose_file.read_text())
    edit(document)
    compose_file.write_text(yaml.safe_dump(document))
    return compose_file


@pytest.mark.validators
def test_compose_binary_rejects_a_dependency_on_an_undefined_service(rendered):
    _, compose_file, env_file = rendered
    broken(compose_file, lambda doc: doc["services"]["kestra"]["depends_on"].update(
        {"missing-db": {"condition": "service_healthy"}}))
    result = compose_config(compose_file, env_file)
    assert not result.ok
    assert "missing-db" in result.output


@pytest.mark.validators
def test_compose_binary_rejects_an_undeclared_volume(rendered):
    _, compose_file, env_file = rendered
    broken(compose_file, lambda doc: doc["volumes"].pop("pgadmin-data"))
    result = compose_config(compose_file, env_file)
    assert not result.ok
    assert "pgadmin-data" in result.output


@pytest.mark.validators
def test_schema_rejects_a_misspelt_key_and_a_wrong_type(rendered):
    _, compose_file, _ = rendered

    def edit(document: dict) -> None:
        document["services"]["kestra"]["restrat"] = "always"
        document["services"]["pgadmin"]["ports"] = "8085:80"  # a list in the spec

    errors = compose_schema_errors(broken(compose_file, edit))
    assert any("restrat" in error for error in errors)
    assert any(error.startswith("services/pgadmin/ports:") for error in errors)
