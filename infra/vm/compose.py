"""Render the service set as the VM's Docker Compose file.

Secret values never enter the file. A service's secret files are compose `secrets` read from the files
the boot script writes from Secret Manager to tmpfs (SECRETS_DIR), mounted read-only at the path the
service reads; compose passes their bytes through untouched, whatever characters a password holds. The
environment's `${NAME}` placeholders (Kestra's base64 `SECRET_*` values) stay as they are and compose
fills them at `up` from the env file the boot script writes. Every other `$` is written as `$$`, so
compose passes it through literally. Public files a service needs (pgAdmin's servers.json, Kestra's
configuration) become inline compose `configs`.

On the VM only Kestra's API port listens on the VM's network interface (the firewall lets IAP, or the
configured operator ranges, reach it); every other published port is bound to 127.0.0.1 and reached
through an SSH tunnel."""

from __future__ import annotations

import re
from collections.abc import Iterable

import yaml

from infra.durations import go_duration
from infra.services import KESTRA, KESTRA_API_PORT, Service, ServiceSet

PROJECT_NAME = "kestra-stack"  # fixes the volume names (kestra-stack_<volume>) on the data disk
# The default network's name, fixed rather than compose's `<project>_default`: the dbt flows' task-runner
# containers join it by this name (KV TAXI_POSTGRES.docker_network).
NETWORK_NAME = f"{PROJECT_NAME}-net"
LOOPBACK = "127.0.0.1"
SECRETS_DIR = "/run/kestra-stack/secrets"  # where infra/vm/boot.sh writes the secret files

_PLACEHOLDER_OR_DOLLAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$")


def escape(text: str, secrets: Iterable[str]) -> str:
    """Keep `${NAME}` for the stack's secrets; double every other `$` so compose leaves it alone."""
    names = frozenset(secrets)

    def replace(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1) in names else "$$" + match.group(0)[1:]

    return _PLACEHOLDER_OR_DOLLAR.sub(replace, text)


def is_public_port(service: Service, container_port: int) -> bool:
    return service.name == KESTRA and container_port == KESTRA_API_PORT


def kestra_host_port(services: ServiceSet) -> int:
    """The VM port the IAP tunnel and the firewall target: where Kestra's API port is published."""
    for service in services.services:
        for port in service.ports:
            if is_public_port(service, port.container_port):
                return port.host_port
    raise ValueError(f"the service set publishes no port {KESTRA_API_PORT} of service {KESTRA!r}")


def config_name(service: Service, path: str) -> str:
    return f"{service.name}-{re.sub(r'[^A-Za-z0-9]+', '-', path).strip('-')}"


def _service(service: Service, secrets: tuple[str, ...], run_once: dict[str, bool]) -> dict:
    def esc(text: str) -> str:
        return escape(text, secrets)

    rendered: dict = {"image": service.image}
    if service.entrypoint:
        rendered["entrypoint"] = [esc(part) for part in service.entrypoint]
    if service.command:
        rendered["command"] = [esc(part) for part in service.command]
    if service.user:
        rendered["user"] = service.user
    if service.shm_size_mb:
        rendered["shm_size"] = f"{service.shm_size_mb}m"
    if service.environment:
        rendered["environment"] = {key: esc(value) for key, value in sorted(service.environment.items())}
    if service.ports:
        rendered["ports"] = [
            {"target": port.container_port, "published": str(port.host_port), "protocol": "tcp",
             **({} if is_public_port(service, port.container_port) else {"host_ip": LOOPBACK})}
            for port in service.ports
        ]
    mounts = [{"type": "volume", "source": mount.volume, "target": mount.target} for mount in service.volumes]
    mounts += [
        {"type": "bind", "source": mount.source, "target": mount.target, "read_only": mount.read_only,
         "bind": {"create_host_path": True}}
        for mount in service.bind_mounts
    ]
    if mounts:
        rendered["volumes"] = mounts
    if service.files:
        rendered["configs"] = [
            {"source": config_name(service, file.path), "target": file.path, "mode": file.mode,
             **({} if file.owner is None else {"uid": str(file.owner)})}
            for file in service.files
        ]
    if service.secret_files:
        # Compose bind-mounts a file secret as it is on the host (uid, gid and mode are not supported:
        # docker/compose pkg/compose/create.go buildContainerSecretMounts): the boot script sets them.
        rendered["secrets"] = [{"source": file.name, "target": file.path} for file in service.secret_files]
    check = service.healthcheck
    if check is not None:
        rendered["healthcheck"] = {
            "test": [esc(part) for part in check.test],
            "interval": go_duration(check.interval_s), "timeout": go_duration(check.timeout_s),
            "retries": check.retries, "start_period": go_duration(check.start_period_s),
        }
    if service.stop_grace_s is not None:
        rendered["stop_grace_period"] = go_duration(service.stop_grace_s)
    if service.depends_on:
        rendered["depends_on"] = {
            name: {"condition": "service_completed_successfully" if run_once[name] else "service_healthy"}
            for name in service.depends_on}
    if service.restart:
        rendered["restart"] = service.restart
    return rendered


def compose_document(services: ServiceSet) -> dict:
    secrets = tuple(services.secrets)
    run_once = {service.name: service.run_once for service in services.services}
    configs = {
        config_name(service, file.path): {"content": escape(file.content, secrets)}
        for service in services.services for file in service.files
    }
    document: dict = {
        "name": PROJECT_NAME,
        "services": {service.name: _service(service, secrets, run_once) for service in services.services},
        "volumes": {volume: {} for volume in services.volumes},
        "networks": {"default": {"name": NETWORK_NAME}},
    }
    if configs:
        document["configs"] = configs
    secret_files = services.secret_files()
    if secret_files:
        document["secrets"] = {file.name: {"file": f"{SECRETS_DIR}/{file.name}"} for file in secret_files}
    return document


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings (Kestra's config, JSON files) as `|` blocks, so the file stays readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def render_compose(services: ServiceSet) -> str:
    header = ("# Generated by kestra-stack (infra/vm/compose.py); the boot script runs it with\n"
              "# `docker compose --env-file /run/kestra-stack/secrets.env up`, the secret files in\n"
              f"# {SECRETS_DIR}. No secret values here.\n")
    return header + yaml.dump(compose_document(services), Dumper=_LiteralDumper, sort_keys=False,
                              width=100)
