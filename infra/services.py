"""The service set — Kestra, its Postgres, the taxi Postgres and pgAdmin — described once, as data.

Both targets render it: the Docker target as pulumi-docker resources, the VM target as a compose
file. No secret value appears here. Secrets reach the containers as files wherever the image reads one
(`SecretFile`: a name, a path and a recipe that builds the content from the secrets' values; each
target builds it once the values are known). Only what must be an environment variable stays one, as a
compose-style placeholder `${NAME}` (NAME listed in `ServiceSet.secrets`) that the Docker target fills
(`fill_placeholders`) and compose interpolates on the VM: Kestra's `SECRET_*` variables, base64 values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from infra import kestra_config
from infra.credential_sync import StartupStep, pgadmin_step, postgres_step
from infra.kestra_config import SecretValues
from infra.names import (  # noqa: F401  (re-exported: the service set's vocabulary)
    KESTRA,
    KESTRA_API_PORT,
    KESTRA_DATABASE,
    KESTRA_DB_USER,
    KESTRA_POSTGRES,
    KESTRA_STORAGE_DIR,
    KESTRA_WORKING_DIR,
    PGADMIN,
    PGADMIN_CONTAINER_PORT,
    POSTGRES_PORT,
    TAXI_DATABASE,
    TAXI_POSTGRES,
    TAXI_USER,
)
from infra.settings import Settings

# Secret placeholders.
KESTRA_PASSWORD = "KESTRA_PASSWORD"
KESTRA_DB_PASSWORD = "KESTRA_DB_PASSWORD"
TAXI_DB_PASSWORD = "TAXI_DB_PASSWORD"
PGADMIN_PASSWORD = "PGADMIN_PASSWORD"
# Kestra OSS reads a secret from the environment variable SECRET_<NAME> holding its base64 form.
TAXI_DB_PASSWORD_BASE64 = "TAXI_DB_PASSWORD_BASE64"
SECRETS = (KESTRA_PASSWORD, KESTRA_DB_PASSWORD, TAXI_DB_PASSWORD, PGADMIN_PASSWORD, TAXI_DB_PASSWORD_BASE64)
# Secrets that are not generated but derived: placeholder -> the secret whose base64 form it holds.
BASE64_OF = MappingProxyType({TAXI_DB_PASSWORD_BASE64: TAXI_DB_PASSWORD})

# What the dbt flow (03_postgres_dbt) reads: KV `TAXI_POSTGRES` (host, port, database, username and the
# Docker network its containers join) and the Kestra secret `TAXI_POSTGRES_PASSWORD`.
TAXI_POSTGRES_KV_KEY = "TAXI_POSTGRES"
TAXI_POSTGRES_PASSWORD_SECRET = "TAXI_POSTGRES_PASSWORD"

PGADMIN_UID = 5050
# The postgres image's user (docker-library/postgres 18/*/Dockerfile: useradd --uid=999).
POSTGRES_UID = 999
# The kestra image's user: kestra-io/kestra Dockerfile `groupadd kestra && useradd -m -g kestra kestra` on
# the Ubuntu jammy base (no user before it), so 1000:1000, the ids Kestra's Helm chart runs it as
# (charts/kestra values.yaml dind rootless `runAsUser: 1000`, `--group=1000`).
KESTRA_UID = 1000
ROOT_UID = 0
KESTRA_STORAGE_OWNER = "kestra-storage-owner"
# Kestra reads its configuration from these files (MICRONAUT_CONFIG_FILES), not from KESTRA_CONFIGURATION:
# an environment variable would reach every Process-runner task (ProcessBuilder inherits Kestra's
# environment, kestra-io/kestra plugin/core/runner/Process.java).
KESTRA_CONFIG_FILE = "/app/confs/kestra-stack.yml"
KESTRA_SECRET_CONFIG_FILE = "/app/secrets/kestra-stack.yml"
POSTGRES_PASSWORD_FILE = "/run/secrets/postgres-password"
PGADMIN_PASSWORD_FILE = "/run/secrets/pgadmin-password"
# Graceful stops (the provider's destroy_grace_seconds and stop_timeout, compose's stop_grace_period):
# Postgres gets its fast shutdown (the image's STOPSIGNAL SIGINT) and its checkpoint; Kestra its own
# termination grace for running tasks plus time to close its queues and connections.
POSTGRES_STOP_GRACE_S = 60
KESTRA_STOP_GRACE_S = kestra_config.TERMINATION_GRACE_S + 30

DOCKER_SOCKET = "/var/run/docker.sock"
PGADMIN_SERVERS_FILE = "/pgadmin4/servers.json"
PGADMIN_PASSFILE = "/pgadmin4/pgpass"
# pgAdmin copies PGPASS_FILE into the user's storage folder; servers.json refers to it from there.
PGADMIN_PASSFILE_IN_STORAGE = "/.pgpass"
# pgAdmin opens every database of a server (the tree's `postgres` too) with the server's one passfile
# (pgadmin4 web/pgadmin/utils/driver/psycopg3/server_manager.py): its line matches any database.
PGPASS_ANY_DATABASE = "*"

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
POSTGRES_SHM_SIZE_MB = 256


@dataclass(frozen=True)
class Port:
    host_ip: str
    host_port: int
    container_port: int


@dataclass(frozen=True)
class VolumeMount:
    volume: str
    target: str


@dataclass(frozen=True)
class BindMount:
    """A host path mounted into the container (only the opt-in Docker task runner uses these)."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class File:
    path: str
    content: str
    mode: int
    owner: int | None = None  # uid that must own it (pgAdmin reads its files as uid 5050)


@dataclass(frozen=True)
class SecretFile:
    """A file built from the stack's secrets: the service set holds its recipe, never its content.
    Docker uploads it into the container; on the VM it is a Secret Manager secret that the boot script
    writes to tmpfs with this owner and mode, and compose mounts it read-only at `path`."""

    name: str  # unique in the stack: the compose secret and the VM's Secret Manager id end in it
    path: str
    uses: tuple[str, ...]  # the secrets it is built from
    render: Callable[[Mapping[str, str]], str]  # their values -> the file's content
    owner: int  # uid that reads it
    mode: int = 0o400

    def content(self, values: Mapping[str, str]) -> str:
        return self.render({name: values[name] for name in self.uses})


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    interval_s: int
    timeout_s: int
    retries: int
    start_period_s: int


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    command: tuple[str, ...]
    environment: Mapping[str, str]
    ports: tuple[Port, ...]
    volumes: tuple[VolumeMount, ...]
    files: tuple[File, ...]
    healthcheck: Healthcheck | None  # None only for a run-once service
    depends_on: tuple[str, ...]
    restart: str
    user: str | None = None
    bind_mounts: tuple[BindMount, ...] = ()
    shm_size_mb: int | None = None  # /dev/shm; None keeps Docker's 64 MB
    secret_files: tuple[SecretFile, ...] = ()
    stop_grace_s: int | None = None  # None keeps Docker's 10 s
    entrypoint: tuple[str, ...] = ()  # () keeps the image's
    # Runs to completion before its dependents start (compose: service_completed_successfully).
    run_once: bool = False


def _step_file(step: StartupStep, owner: int | None = None) -> File:
    return File(step.script_path, step.script, 0o755, owner=owner)


@dataclass(frozen=True)
class ServiceSet:
    services: tuple[Service, ...]
    volumes: tuple[str, ...]
    secrets: tuple[str, ...]

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def secret_files(self) -> tuple[SecretFile, ...]:
        return tuple(file for service in self.services for file in service.secret_files)

    def env_secrets(self) -> tuple[str, ...]:
        """The secrets that reach a container as an environment variable (a `${NAME}` placeholder)."""
        used = {name for service in self.services for value in service.environment.values()
                for name in PLACEHOLDER.findall(value)}
        return tuple(name for name in self.secrets if name in used)


def placeholder(name: str) -> str:
    return "${" + name + "}"


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace every `${NAME}` with its value; an unknown NAME is an error, never left in place."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for placeholder {name}")
        return values[name]

    return PLACEHOLDER.sub(value_of, text)


def pgpass_line(host: str, port: int, database: str, username: str, password: str) -> str:
    """One libpq password-file line; ':' and '\\' escaped in every field."""

    def escape(field: str) -> str:
        return field.replace("\\", "\\\\").replace(":", "\\:")

    return ":".join(escape(str(part)) for part in (host, port, database, username, password)) + "\n"


def taxi_postgres_kv(docker_network: object, host: object = TAXI_POSTGRES) -> dict[str, object]:
    """KV `TAXI_POSTGRES`: how a task container on `docker_network` (a name, or a Pulumi Output of one)
    reaches the taxi database at `host`. The password is not here: Kestra holds it as a secret."""
    return {"host": host, "port": POSTGRES_PORT, "database": TAXI_DATABASE, "username": TAXI_USER,
            "docker_network": docker_network}


def pgadmin_servers_json(host: str = TAXI_POSTGRES, sslmode: str = "prefer") -> str:
    servers = {
        "Servers": {
            "1": {
                "Name": f"{TAXI_DATABASE} ({TAXI_POSTGRES})",
                "Group": "kestra-stack",
                "Host": host,
                "Port": POSTGRES_PORT,
                "MaintenanceDB": TAXI_DATABASE,
                "Username": TAXI_USER,
                "ConnectionParameters": {"sslmode": sslmode, "passfile": PGADMIN_PASSFILE_IN_STORAGE},
            }
        }
    }
    return json.dumps(servers, indent=2) + "\n"


def _raw(secret: str) -> Callable[[Mapping[str, str]], str]:
    """The secret's value as the whole file: what the images' `*_FILE` variables read (`$(< file)`)."""
    return lambda values: values[secret]


def _kestra_secret_config(settings: Settings) -> Callable[[Mapping[str, str]], str]:
    def render(values: Mapping[str, str]) -> str:
        return kestra_config.dump(kestra_config.secret_configuration(settings, SecretValues(
            kestra_password=values[KESTRA_PASSWORD], database_password=values[KESTRA_DB_PASSWORD],
            taxi_password=values[TAXI_DB_PASSWORD])))
    return render


def _taxi_pgpass(values: Mapping[str, str]) -> str:
    return pgpass_line(TAXI_POSTGRES, POSTGRES_PORT, PGPASS_ANY_DATABASE, TAXI_USER, values[TAXI_DB_PASSWORD])


def _postgres(name: str, image: str, database: str, user: str, password_secret: str,
              ports: tuple[Port, ...]) -> Service:
    # A kept data directory takes the current password at every start (infra/credential_sync).
    step = postgres_step()
    return Service(
        name=name,
        image=image,
        entrypoint=step.entrypoint,
        command=step.command,
        environment=MappingProxyType({
            "POSTGRES_DB": database,
            "POSTGRES_USER": user,
            # The entrypoint reads it (docker-library/postgres docker-entrypoint.sh file_env) at start-up.
            "POSTGRES_PASSWORD_FILE": POSTGRES_PASSWORD_FILE,
        }),
        ports=ports,
        # Postgres 18+ images keep data under /var/lib/postgresql (a mount at .../data is refused).
        volumes=(VolumeMount(f"{name}-data", "/var/lib/postgresql"),),
        files=(_step_file(step),),
        secret_files=(SecretFile(f"{name}-password", POSTGRES_PASSWORD_FILE, (password_secret,),
                                 _raw(password_secret), owner=POSTGRES_UID),),
        healthcheck=Healthcheck(test=("CMD", "pg_isready", "-h", "127.0.0.1", "-U", user, "-d", database),
                                interval_s=5, timeout_s=5, retries=12, start_period_s=10),
        depends_on=(),
        restart="unless-stopped",
        # PostgreSQL's parallel queries keep their shared state in /dev/shm (a parallel hash join its whole
        # hash table); Docker's 64 MB default can fail them with "could not resize shared memory segment"
        shm_size_mb=POSTGRES_SHM_SIZE_MB,
        stop_grace_s=POSTGRES_STOP_GRACE_S,
    )


def kestra_runs_as_root(settings: Settings) -> bool:
    """Only for the Docker task runner: the Docker socket is root's (as in Kestra's own compose file)."""
    return settings.enable_docker_task_runner


def _kestra_storage_owner(settings: Settings) -> Service:
    """Gives Kestra's storage volume to the kestra user before Kestra starts: a new named volume mounts
    root-owned (the image has no /app/storage to copy ownership from), and a volume written while Kestra
    ran as root holds root's files. Only what is not kestra's yet is changed."""
    return Service(
        name=KESTRA_STORAGE_OWNER,
        image=settings.images.kestra,
        entrypoint=("find", KESTRA_STORAGE_DIR, "!", "-user", str(KESTRA_UID), "-exec",
                    "chown", "--no-dereference", f"{KESTRA_UID}:{KESTRA_UID}", "{}", "+"),
        command=(),
        environment=MappingProxyType({}),
        ports=(),
        volumes=(VolumeMount("kestra-storage", KESTRA_STORAGE_DIR),),
        files=(),
        healthcheck=None,
        depends_on=(),
        restart="no",
        user="root",
        run_once=True,
    )


def _kestra(settings: Settings, bind_address: str) -> Service:
    bind_mounts: tuple[BindMount, ...] = ()
    if settings.enable_docker_task_runner:
        bind_mounts = (BindMount(DOCKER_SOCKET, DOCKER_SOCKET),
                       BindMount(KESTRA_WORKING_DIR, KESTRA_WORKING_DIR))
    if kestra_runs_as_root(settings):
        user, uid, owner = "root", ROOT_UID, ()
    else:  # the image's own user
        user, uid, owner = None, KESTRA_UID, (KESTRA_STORAGE_OWNER,)
    public_config = kestra_config.dump(kestra_config.public_configuration(settings))
    return Service(
        name=KESTRA,
        image=settings.images.kestra,
        command=("server", "standalone"),
        environment=MappingProxyType({
            "MICRONAUT_CONFIG_FILES": f"{KESTRA_CONFIG_FILE},{KESTRA_SECRET_CONFIG_FILE}",
            # Kestra OSS's secret backend reads SECRET_* from its environment and nowhere else.
            f"SECRET_{TAXI_POSTGRES_PASSWORD_SECRET}": placeholder(TAXI_DB_PASSWORD_BASE64),
        }),
        ports=(Port(bind_address, settings.ports.kestra, KESTRA_API_PORT),),
        volumes=(VolumeMount("kestra-storage", KESTRA_STORAGE_DIR),),
        files=(File(KESTRA_CONFIG_FILE, public_config, 0o444),),
        secret_files=(SecretFile("kestra-config", KESTRA_SECRET_CONFIG_FILE,
                                 (KESTRA_PASSWORD, KESTRA_DB_PASSWORD, TAXI_DB_PASSWORD),
                                 _kestra_secret_config(settings), owner=uid),),
        # The image has bash but no guaranteed curl; ask the management port (never published).
        healthcheck=Healthcheck(
            test=("CMD", "bash", "-c",
                  "exec 3<>/dev/tcp/127.0.0.1/8081 && "
                  "printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"),
            interval_s=10, timeout_s=5, retries=30, start_period_s=60),
        depends_on=(KESTRA_POSTGRES, TAXI_POSTGRES, *owner),
        restart="unless-stopped",
        user=user,
        bind_mounts=bind_mounts,
        stop_grace_s=KESTRA_STOP_GRACE_S,
    )


def pgadmin_environment(email: str) -> dict[str, str]:
    """pgAdmin's environment on every target: login, password file, server list and pass file."""
    return {
        "PGADMIN_DEFAULT_EMAIL": email,
        # The entrypoint reads it (pgadmin4 pkg/docker/entrypoint.sh file_env) at start-up.
        "PGADMIN_DEFAULT_PASSWORD_FILE": PGADMIN_PASSWORD_FILE,
        "PGADMIN_SERVER_JSON_FILE": PGADMIN_SERVERS_FILE,
        "PGADMIN_REPLACE_SERVERS_ON_STARTUP": "True",
        "PGPASS_FILE": PGADMIN_PASSFILE,
        "PGADMIN_DISABLE_POSTFIX": "true",
        "PGADMIN_CONFIG_UPGRADE_CHECK_ENABLED": "False",
    }


def _pgadmin(settings: Settings, bind_address: str) -> Service:
    # A kept pgadmin4.db takes the current login, password and pass file at every start.
    step = pgadmin_step()
    return Service(
        name=PGADMIN,
        image=settings.images.pgadmin,
        entrypoint=step.entrypoint,
        command=step.command,
        environment=MappingProxyType(pgadmin_environment(settings.pgadmin_email)),
        ports=(Port(bind_address, settings.ports.pgadmin, PGADMIN_CONTAINER_PORT),),
        # The image's /var/lib/pgadmin belongs to uid 5050; a named volume inherits that owner.
        volumes=(VolumeMount("pgadmin-data", "/var/lib/pgadmin"),),
        files=(File(PGADMIN_SERVERS_FILE, pgadmin_servers_json(), 0o644, owner=PGADMIN_UID),
               _step_file(step, owner=PGADMIN_UID)),
        secret_files=(
            SecretFile("pgadmin-password", PGADMIN_PASSWORD_FILE, (PGADMIN_PASSWORD,), _raw(PGADMIN_PASSWORD),
                       owner=PGADMIN_UID),
            SecretFile("pgadmin-pgpass", PGADMIN_PASSFILE, (TAXI_DB_PASSWORD,), _taxi_pgpass,
                       owner=PGADMIN_UID, mode=0o600),
        ),
        healthcheck=Healthcheck(test=("CMD", "wget", "-q", "-O", "/dev/null",
                                      "http://127.0.0.1:80/misc/ping"),
                                interval_s=10, timeout_s=5, retries=12, start_period_s=30),
        depends_on=(TAXI_POSTGRES,),
        restart="unless-stopped",
    )


def build_service_set(settings: Settings) -> ServiceSet:
    """The four services, their published ports on settings.bind_address, and the run-once step that
    gives Kestra's storage to its user when Kestra does not run as root; dependencies first."""
    address = settings.bind_address
    owner = () if kestra_runs_as_root(settings) else (_kestra_storage_owner(settings),)
    services = (
        _postgres(KESTRA_POSTGRES, settings.images.postgres, KESTRA_DATABASE, KESTRA_DB_USER,
                  KESTRA_DB_PASSWORD, ports=()),
        _postgres(TAXI_POSTGRES, settings.images.postgres, TAXI_DATABASE, TAXI_USER,
                  TAXI_DB_PASSWORD, ports=(Port(address, settings.ports.postgres, POSTGRES_PORT),)),
        *owner,
        _kestra(settings, address),
        _pgadmin(settings, address),
    )
    volumes = tuple(dict.fromkeys(mount.volume for service in services for mount in service.volumes))
    return ServiceSet(services=services, volumes=volumes, secrets=SECRETS)

