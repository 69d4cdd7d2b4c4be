"""Which Docker engine the docker target talks to: the `docker:*` stack config, else the Docker CLI's
current context.

The stack's docker provider is explicit (infra.docker_provider), and an explicit provider does not read
`docker:*` stack config itself, so the keys it supports are read here. pulumi-docker's `host` defaults
to DOCKER_HOST, else unix:///var/run/docker.sock (pulumi-docker provider/resources.go; issue
pulumi-docker#603): it never follows `docker context use`. Colima, Rancher Desktop, Docker Desktop for
Linux and rootless Docker leave that socket absent and point the CLI's current context at their own.
So when neither `docker:host`/`docker:context` nor DOCKER_HOST/DOCKER_CONTEXT says where the engine is,
the current context's endpoint becomes the provider's `host`, read from the CLI's files as the CLI
does (docker/cli at 28f7560: cli/config/config.go `Dir` = $DOCKER_CONFIG or ~/.docker;
configfile.ConfigFile.CurrentContext `currentContext` in config.json; cli/command/cli.go
resolveContextName: DOCKER_HOST, then DOCKER_CONTEXT, then currentContext, "default" meaning the
built-in one; cli/context/store: contexts/meta/<sha256 of the name>/meta.json, `Endpoints.docker.Host`,
TLS files under contexts/tls/<same digest>/docker).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.services import DOCKER_SOCKET
from infra.settings import ConfigError

NAMESPACE = "docker"
# docker:* keys passed on to the explicit provider (stack config key -> pulumi_docker.Provider argument).
PASSED_KEYS = {"host": "host", "context": "context", "certPath": "cert_path", "caMaterial": "ca_material",
               "certMaterial": "cert_material", "keyMaterial": "key_material", "sshOpts": "ssh_opts"}
# The provider's other keys: refused rather than silently dropped.
UNSUPPORTED_KEYS = ("registryAuth", "disableDockerDaemonCheck")
KEYS = (*PASSED_KEYS, *UNSUPPORTED_KEYS)
# Key material is kept secret in the provider's inputs (the state), as `--secret` keeps it in config.
SECRET_ARGUMENTS = frozenset({"ca_material", "cert_material", "key_material"})
DEFAULT_CONTEXT = "default"
# A user's runtime directory (systemd's /run/user/<uid>, $XDG_RUNTIME_DIR): a socket there is a daemon
# running on this machine as that user, rootless Docker's $XDG_RUNTIME_DIR/docker.sock
# (moby contrib/dockerd-rootless.sh) or rootless Podman's.
USER_RUNTIME_DIR = re.compile(r"/run/user/[0-9]+/")


@dataclass(frozen=True)
class DockerEngine:
    """The provider arguments: pulumi_docker.Provider keyword -> value; `host_from_context` names the CLI
    context `host` was read from (None when it came from config or is left to the provider)."""

    provider_args: Mapping[str, object]
    host_from_context: str | None = None


def _error(key: str, reason: str) -> ConfigError:
    return ConfigError(key, reason, namespace=NAMESPACE)


def parse_docker_config(raw: Mapping[str, str]) -> dict[str, object]:
    """`docker:*` stack config (keys without the prefix, string values) -> provider arguments."""
    for key in UNSUPPORTED_KEYS:
        if raw.get(key):
            raise _error(key, "is not passed on by this program's docker provider; remove it (see README, "
                              "\"Docker engine\")")
    args: dict[str, object] = {}
    for key, argument in PASSED_KEYS.items():
        value = raw.get(key)
        if not value:
            continue
        if key == "sshOpts":
            try:
                options = json.loads(value)
            except ValueError:
                options = None
            if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
                raise _error(key, "must be a list of strings (pulumi config set --path 'docker:sshOpts[0]' …)")
            value = options
        args[argument] = value
    return args


def _read_json(path: Path, what: str) -> dict | None:
    """The JSON object in `path`; None when the file does not exist."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _error("host", f"is not set, and {what} {path} cannot be read ({type(error).__name__}); "
                             "set docker:host") from None
    if not isinstance(document, dict):
        raise _error("host", f"is not set, and {what} {path} is not a JSON object; set docker:host")
    return document


def current_context_host(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(context name, its Docker endpoint) when the CLI's current context is one of its own stored
    contexts and nothing in the environment overrides it; None otherwise."""
    if environ.get("DOCKER_HOST") or environ.get("DOCKER_CONTEXT"):
        return None  # the provider reads both itself (`host` and `context` default to them)
    home = environ.get("HOME") or str(Path.home())
    config_dir = Path(environ.get("DOCKER_CONFIG") or Path(home) / ".docker")
    config = _read_json(config_dir / "config.json", "the Docker CLI config")
    name = (config or {}).get("currentContext") or DEFAULT_CONTEXT
    if not isinstance(name, str):
        raise _error("host", f"is not set, and currentContext in {config_dir / 'config.json'} is not a string")
    if name == DEFAULT_CONTEXT:
        return None
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_path = config_dir / "contexts" / "meta" / digest / "meta.json"
    meta = _read_json(meta_path, f"the Docker context {name!r}")
    if meta is None:
        raise _error("host", f"is not set, and the Docker CLI's current context {name!r} has no {meta_path}; "
                             "run `docker context use default` or set docker:host")
    endpoint = (meta.get("Endpoints") or {}).get("docker") or {}
    host = endpoint.get("Host") if isinstance(endpoint, dict) else None
    if not isinstance(host, str) or not host:
        raise _error("host", f"is not set, and the Docker context {name!r} ({meta_path}) has no docker endpoint")
    if (config_dir / "contexts" / "tls" / digest / "docker").exists():
        raise _error("host", f"is not set, and the Docker context {name!r} connects with TLS files this program "
                             "does not pass on; set docker:host and docker:certPath")
    return name, host


def docker_engine(config: Mapping[str, str], environ: Mapping[str, str]) -> DockerEngine:
    """The provider arguments from `docker:*` config, completed with the current context's host when
    neither config nor environment says where the engine is."""
    args = parse_docker_config(config)
    if "host" in args or "context" in args:
        return DockerEngine(args)
    found = current_context_host(environ)
    if found is None:
        return DockerEngine(args)
    name, host = found
    return DockerEngine({**args, "host": host}, host_from_context=name)


def daemon_socket(engine: DockerEngine, environ: Mapping[str, str]) -> str:
    """The engine's socket as a path on the daemon's own machine, which is what a bind mount's source
    names: a rootless daemon's socket in the user's runtime directory, else /var/run/docker.sock. A
    socket elsewhere (Colima, Rancher Desktop, Docker Desktop) is forwarded to a daemon in a VM whose
    socket is /var/run/docker.sock; so is a remote engine's (tcp://, ssh://)."""
    host = engine.provider_args.get("host") or environ.get("DOCKER_HOST") or ""
    if not isinstance(host, str) or not host.startswith("unix://"):
        return DOCKER_SOCKET
    path = host.removeprefix("unix://")
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "").rstrip("/")
    if USER_RUNTIME_DIR.match(path) or (runtime_dir and path.startswith(f"{runtime_dir}/")):
        return path
    return DOCKER_SOCKET
