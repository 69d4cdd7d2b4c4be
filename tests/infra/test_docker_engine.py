"""The Docker engine the docker target uses: `docker:*` config, else DOCKER_HOST/DOCKER_CONTEXT (left to the
provider), else the Docker CLI's current context read from a fake DOCKER_CONFIG directory laid out as the
CLI lays it out (docker/cli cli/context/store: contexts/meta/<sha256 of the name>/meta.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from infra.docker_engine import current_context_host, docker_engine
from infra.offline import OfflinePlan, plan_stack
from infra.settings import ConfigError

COLIMA = "unix:///Users/me/.colima/default/docker.sock"
DOCKER_PROVIDER = "pulumi:providers:docker"


def docker_config_dir(base: Path, current: str | None, contexts: dict[str, str], tls: tuple[str, ...] = ()) -> Path:
    """What `docker context create NAME --docker host=HOST` and `docker context use CURRENT` leave behind."""
    config_dir = base / "docker-config"
    config_dir.mkdir()
    config = {"auths": {}}
    if current is not None:
        config["currentContext"] = current
    (config_dir / "config.json").write_text(json.dumps(config))
    for name, host in contexts.items():
        digest = hashlib.sha256(name.encode()).hexdigest()
        meta = config_dir / "contexts" / "meta" / digest
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(json.dumps({
            "Name": name, "Metadata": {"Description": name},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
        if name in tls:
            (config_dir / "contexts" / "tls" / digest / "docker").mkdir(parents=True)
    return config_dir


def env(config_dir: Path, **extra: str) -> dict[str, str]:
    return {"HOME": "/nonexistent-home", "DOCKER_CONFIG": str(config_dir), **extra}


def test_the_current_context_gives_its_docker_endpoint(tmp_path):
    config_dir = docker_config_dir(tmp_path, "colima", {"colima": COLIMA, "other": "unix:///other.sock"})
    assert current_context_host(env(config_dir)) == ("colima", COLIMA)


def test_without_docker_config_the_cli_directory_is_under_home(tmp_path):
    docker_config_dir(tmp_path, "colima", {"colima": COLIMA}).rename(tmp_path / ".docker")
    assert current_context_host({"HOME": str(tmp_path)}) == ("colima", COLIMA)


@pytest.mark.parametrize("current", [None, "default", ""])
def test_the_default_context_or_none_leaves_the_host_to_the_provider(tmp_path, current):
    config_dir = docker_config_dir(tmp_path, current, {"colima": COLIMA})
    assert current_context_host(env(config_dir)) is None


def test_no_docker_config_at_all_leaves_the_host_to_the_provider(tmp_path):
    assert current_context_host(env(tmp_path / "absent")) is None


@pytest.mark.parametrize("variable", ["DOCKER_HOST", "DOCKER_CONTEXT"])
def test_docker_host_or_docker_context_in_the_environment_win_over_the_current_context(tmp_path, variable):
    config_dir = docker_config_dir(tmp_path, "colima", {"colima": COLIMA})
    assert current_context_host(env(config_dir, **{variable: "unix:///elsewhere.sock"})) is None


def test_a_current_context_without_its_meta_file_names_the_file_and_the_key_to_set(tmp_path):
    config_dir = docker_config_dir(tmp_path, "gone", {"colima": COLIMA})
    with pytest.raises(ConfigError) as caught:
        current_context_host(env(config_dir))
    digest = hashlib.sha256(b"gone").hexdigest()
    assert str(caught.value).startswith("docker:host: is not set, and the Docker CLI's current context 'gone' has no ")
    assert f"contexts/meta/{digest}/meta.json" in str(caught.value)


def test_a_broken_cli_config_is_named(tmp_path):
    config_dir = docker_config_dir(tmp_path, None, {})
    (config_dir / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"^docker:host: is not set, and the Docker CLI config .*config\.json "
                                          r"cannot be read \(JSONDecodeError\); set docker:host$"):
        current_context_host(env(config_dir))


def test_a_tls_context_is_refused_rather_than_used_without_its_certificates(tmp_path):
    config_dir = docker_config_dir(tmp_path, "remote", {"remote": "tcp://203.0.113.5:2376"}, tls=("remote",))
    with pytest.raises(ConfigError, match="docker:host and docker:certPath"):
        current_context_host(env(config_dir))


def test_configured_docker_host_or_context_wins_and_the_cli_files_are_not_read(tmp_path):
    config_dir = docker_config_dir(tmp_path, "gone", {})  # would fail if read
    assert docker_engine({"host": "ssh://me@box"}, env(config_dir)).provider_args == {"host": "ssh://me@box"}
    assert docker_engine({"context": "colima"}, env(config_dir)).provider_args == {"context": "colima"}


def test_provider_keys_are_passed_on_and_unsupported_ones_refused(tmp_path):
    engine = docker_engine({"host": "ssh://me@box", "sshOpts": '["-o", "StrictHostKeyChecking=yes"]',
                            "certPath": "/certs"}, env(tmp_path))
    assert engine.provider_args == {"host": "ssh://me@box", "ssh_opts": ["-o", "StrictHostKeyChecking=yes"],
                                    "cert_path": "/certs"}
    with pytest.raises(ConfigError, match=r"^docker:sshOpts: must be a list of strings"):
        docker_engine({"sshOpts": "-o x"}, env(tmp_path))
    with pytest.raises(ConfigError, match=r"^docker:registryAuth: is not passed on"):
        docker_engine({"registryAuth": "[]"}, env(tmp_path))


def provider_of(plan: OfflinePlan):
    (provider,) = plan.of_type(DOCKER_PROVIDER)
    docker_resources = [resource for resource in plan.resources if resource.type.startswith("docker:")]
    assert len(docker_resources) >= 10
    assert [resource.name for resource in docker_resources if resource.provider != provider.name] == []
    return provider


def test_the_dev_plan_sends_every_docker_resource_to_the_current_contexts_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config_dir(tmp_path, "colima", {"colima": COLIMA})))
    assert provider_of(plan_stack("dev")).inputs == {"host": COLIMA}


def test_the_dev_plan_follows_docker_host_config_then_the_docker_host_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config_dir(tmp_path, "colima", {"colima": COLIMA})))
    configured = plan_stack("dev", provider_config={"docker:host": "unix:///run/user/1000/docker.sock"})
    assert provider_of(configured).inputs == {"host": "unix:///run/user/1000/docker.sock"}
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert provider_of(plan_stack("dev")).inputs == {"host": "tcp://127.0.0.1:2375"}


def test_without_any_of_them_the_provider_keeps_its_default_socket(dev_plan):
    assert provider_of(dev_plan).inputs == {}
