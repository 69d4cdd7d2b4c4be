"""The service set as data: shape, secrets only as placeholders, Kestra's configuration."""

from __future__ import annotations

import re

import pytest
import yaml

from infra.credential_sync import pgadmin_step, postgres_step
from infra.offline import REPO_ROOT
from infra.services import (
    BASE64_OF,
    KESTRA_CONFIG_FILE,
    PLACEHOLDER,
    SECRETS,
    build_service_set,
    fill_placeholders,
)
from infra.settings import parse_settings
from tests.infra.kestra_files import merged_configuration
from tests.infra.raw_config import GCP_PROJECT, raw_config, vm_raw_config


# Stand-ins for the generated values: each secret file is built from these.
VALUES = {name: f"<{name.lower()}>" for name in SECRETS}


def kestra_config(services) -> dict:
    """Kestra's two configuration files, public and secret, merged as Micronaut reads them."""
    kestra = services.service("kestra")
    [public] = [file.content for file in kestra.files if file.path == KESTRA_CONFIG_FILE]
    [secret] = [file.content(VALUES) for file in kestra.secret_files]
    return merged_configuration(yaml.safe_load(public), yaml.safe_load(secret))


def all_text(services) -> list[str]:
    texts = []
    for service in services.services:
        texts += list(service.environment.values()) + [file.content for file in service.files]
        texts += list(service.command) + list(service.entrypoint)
        texts += list(service.healthcheck.test) if service.healthcheck else []
    return texts


@pytest.fixture(scope="module")
def dev_services():
    return build_service_set(parse_settings(raw_config()))


def test_four_services_with_the_shared_names_and_dependencies_first(dev_services):
    names = [service.name for service in dev_services.services]
    assert names == ["kestra-postgres", "taxi-postgres", "kestra-storage-owner", "kestra", "pgadmin"]
    for index, service in enumerate(dev_services.services):
        assert set(service.depends_on) <= set(names[:index]), service.name
        if service.run_once:
            assert (service.restart, service.healthcheck) == ("no", None), service.name
            continue
        assert service.restart == "unless-stopped"
        assert service.healthcheck.test[0] in {"CMD", "CMD-SHELL"}
        assert service.healthcheck.retries > 0


def test_every_named_volume_is_declared_and_postgres_18_data_lives_under_var_lib_postgresql(dev_services):
    mounted = {mount.volume for service in dev_services.services for mount in service.volumes}
    assert mounted == set(dev_services.volumes)
    for name in ("kestra-postgres", "taxi-postgres"):
        [mount] = dev_services.service(name).volumes
        assert mount.target == "/var/lib/postgresql"


def test_secrets_appear_only_as_declared_placeholders_or_in_secret_files(dev_services):
    scripts = {step().script for step in (postgres_step, pgadmin_step)}
    used = set()
    for text in all_text(dev_services):
        used |= set(PLACEHOLDER.findall(text))
        if text in scripts:
            # Shell and Python need `$` (compose escaping carries it to the VM intact), but no
            # `${NAME}`: the Docker target would fill it in.
            assert not PLACEHOLDER.findall(text)
            continue
        # No other `$`: compose would try to interpolate it on the VM.
        assert "$" not in PLACEHOLDER.sub("", text), text
        assert not any(value in text for value in VALUES.values())
    assert used == set(dev_services.env_secrets()) == {"TAXI_DB_PASSWORD_BASE64"}
    in_files = {name for file in dev_services.secret_files() for name in file.uses}
    assert used | in_files == set(SECRETS) == set(dev_services.secrets)
    names = [file.name for file in dev_services.secret_files()]
    assert len(names) == len(set(names)), "a secret file's name is unique in the stack"


def test_fill_placeholders_refuses_an_unknown_name():
    assert fill_placeholders("a=${X}", {"X": "1"}) == "a=1"
    with pytest.raises(KeyError):
        fill_placeholders("a=${Y}", {"X": "1"})


def test_only_taxi_postgres_kestra_and_pgadmin_publish_ports_on_the_bind_address(dev_services):
    published = {service.name: [(p.host_ip, p.host_port, p.container_port) for p in service.ports]
                 for service in dev_services.services}
    assert published == {
        "kestra-postgres": [],
        "kestra-storage-owner": [],
        "taxi-postgres": [("127.0.0.1", 5433, 5432)],
        "kestra": [("127.0.0.1", 8080, 8080)],
        "pgadmin": [("127.0.0.1", 8085, 80)],
    }
    overridden = build_service_set(parse_settings(raw_config(bindAddress="0.0.0.0")))
    assert {p.host_ip for s in overridden.services for p in s.ports} == {"0.0.0.0"}


def test_kestra_config_uses_postgres_basic_auth_and_never_calls_out(dev_services):
    config = kestra_config(dev_services)
    assert config["datasources"]["postgres"]["url"] == "jdbc:postgresql://kestra-postgres:5432/kestra"
    kestra = config["kestra"]
    assert kestra["repository"]["type"] == kestra["queue"]["type"] == "postgres"
    assert kestra["storage"] == {"type": "local", "local": {"base-path": "/app/storage"}}
    assert kestra["server"]["basic-auth"] == {"username": "zoomcamp@example.com",
                                              "password": VALUES["KESTRA_PASSWORD"]}
    assert config["datasources"]["postgres"]["password"] == VALUES["KESTRA_DB_PASSWORD"]
    assert kestra["tutorial-flows"]["enabled"] is False
    assert kestra["anonymous-usage-report"]["enabled"] is False
    assert kestra["ui-anonymous-usage-report"]["enabled"] is False
    assert dev_services.service("kestra").command == ("server", "standalone")


def test_kestra_plugin_defaults_carry_the_taxi_connection_and_no_gcp_without_a_project(dev_services):
    defaults = kestra_config(dev_services)["kestra"]["plugins"]["defaults"]
    assert defaults == [{
        "type": "io.kestra.plugin.jdbc.postgresql",
        "values": {"url": "jdbc:postgresql://taxi-postgres:5432/ny_taxi", "username": "taxi",
                   "password": VALUES["TAXI_DB_PASSWORD"]},
    }]


def test_gcp_plugin_defaults_read_kv_and_take_the_key_only_on_docker():
    docker = kestra_config(build_service_set(parse_settings(raw_config(gcpProject=GCP_PROJECT))))
    vm = kestra_config(build_service_set(parse_settings(vm_raw_config())))
    [docker_gcp] = [d for d in docker["kestra"]["plugins"]["defaults"]
                    if d["type"] == "io.kestra.plugin.gcp"]
    [vm_gcp] = [d for d in vm["kestra"]["plugins"]["defaults"] if d["type"] == "io.kestra.plugin.gcp"]
    assert docker_gcp["values"] == {"projectId": "{{ kv('GCP_PROJECT_ID') }}",
                                    "serviceAccount": "{{ kv('GCP_CREDS') }}"}
    assert vm_gcp["values"] == {"projectId": "{{ kv('GCP_PROJECT_ID') }}"}


def test_gcs_storage_on_the_vm_uses_the_data_lake_bucket():
    settings = parse_settings(vm_raw_config(kestraStorage="gcs"))
    storage = kestra_config(build_service_set(settings))["kestra"]["storage"]
    assert storage == {"type": "gcs", "gcs": {"bucket": settings.bucket_name, "project-id": GCP_PROJECT}}


def test_docker_socket_is_mounted_only_when_docker_task_runners_are_enabled(dev_services):
    assert dev_services.service("kestra").bind_mounts == ()
    assert "tasks" not in kestra_config(dev_services)["kestra"]
    enabled = build_service_set(parse_settings(raw_config(enableDockerTaskRunner="true")))
    mounts = {(m.source, m.target) for m in enabled.service("kestra").bind_mounts}
    assert mounts == {("/var/run/docker.sock", "/var/run/docker.sock"),
                      ("/tmp/kestra-wd", "/tmp/kestra-wd")}
    assert kestra_config(enabled)["kestra"]["tasks"]["tmp-dir"]["path"].startswith("/tmp/kestra-wd/")


def test_pgadmin_loads_servers_and_passfile_from_files_it_can_read(dev_services):
    pgadmin = dev_services.service("pgadmin")
    env = pgadmin.environment
    files = {file.path: file for file in (*pgadmin.files, *pgadmin.secret_files)}
    assert env["PGADMIN_REPLACE_SERVERS_ON_STARTUP"] == "True"
    assert env["PGADMIN_SERVER_JSON_FILE"] in files
    assert env["PGPASS_FILE"] in files
    assert env["PGADMIN_DEFAULT_PASSWORD_FILE"] in files
    assert files[env["PGPASS_FILE"]].mode == 0o600
    assert {file.owner for file in files.values()} == {5050}
    assert [m.target for m in pgadmin.volumes] == ["/var/lib/pgadmin"]


def test_every_secret_the_flows_read_is_a_kestra_oss_secret_variable_holding_a_base64_placeholder(dev_services):
    sources = "\n".join(path.read_text() for path in sorted((REPO_ROOT / "flows").rglob("*.yaml")))
    read = set(re.findall(r"secret\(\s*'([A-Z0-9_]+)'\s*\)", sources))
    assert "TAXI_POSTGRES_PASSWORD" in read
    env = dev_services.service("kestra").environment
    for name in read:
        [placeholder_name] = PLACEHOLDER.findall(env[f"SECRET_{name}"])
        assert placeholder_name in BASE64_OF, name
    assert env["SECRET_TAXI_POSTGRES_PASSWORD"] == "${TAXI_DB_PASSWORD_BASE64}"
    assert BASE64_OF == {"TAXI_DB_PASSWORD_BASE64": "TAXI_DB_PASSWORD"}
    assert set(BASE64_OF) | set(BASE64_OF.values()) <= set(dev_services.secrets)
