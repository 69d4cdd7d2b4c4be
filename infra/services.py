"""The service set — Kestra, its Postgres, the taxi Postgres and pgAdmin — described once, as data.

Both targets render it: the Docker target as pulumi-docker resources, the VM target as a compose
file. No secret value appears here: environment values and file contents reference secrets as
compose-style placeholders `${NAME}`, NAME listed in `ServiceSet.secrets`; each target substitutes
them (`fill_placeholders`) or lets compose interpolate them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import yaml

from infra.settings import Settings

# Service names: the hostnames on the Docker network and the compose service names.
KESTRA = "kestra"
KESTRA_POSTGRES = "kestra-postgres"
TAXI_POSTGRES = "taxi-postgres"
PGADMIN = "pgadmin"

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

TAXI_DATABASE = "ny_taxi"
TAXI_USER = "taxi"
KESTRA_DATABASE = "kestra"
KESTRA_DB_USER = "kestra"
POSTGRES_PORT = 5432
KESTRA_API_PORT = 8080
PGADMIN_CONTAINER_PORT = 80
PGADMIN_UID = 5050

KESTRA_STORAGE_DIR = "/app/storage"
KESTRA_WORKING_DIR = "/tmp/kestra-wd"  # same path on host and in Kestra, as Docker task runners need
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
    healthcheck: Healthcheck
    depends_on: tuple[str, ...]
    restart: str
    user: str | None = None
    bind_mounts: tuple[BindMount, ...] = ()
    shm_size_mb: int | None = None  # /dev/shm; None keeps Docker's 64 MB


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


def kestra_configuration(settings: Settings) -> str:
    """KESTRA_CONFIGURATION: Postgres repository and queue, storage, basic auth, no call-outs, and the
    server-level plugin defaults that carry every connection so flows stay environment-free."""
    plugin_defaults: list[dict] = [{
        "type": "io.kestra.plugin.jdbc.postgresql",
        "values": {
            "url": f"jdbc:postgresql://{TAXI_POSTGRES}:{POSTGRES_PORT}/{TAXI_DATABASE}",
            "username": TAXI_USER,
            "password": placeholder(TAXI_DB_PASSWORD),
        },
    }]
    if settings.data_lake_enabled:
        gcp_values = {"projectId": "{{ kv('GCP_PROJECT_ID') }}"}
        if settings.target == "docker":  # on the VM the plugins use the VM's service account
            gcp_values["serviceAccount"] = "{{ kv('GCP_CREDS') }}"
        plugin_defaults.append({"type": "io.kestra.plugin.gcp", "values": gcp_values})

    if settings.kestra_storage == "gcs":
        storage = {"type": "gcs", "gcs": {"bucket": settings.bucket_name,
                                          "project-id": settings.gcp_project}}
    else:
        storage = {"type": "local", "local": {"base-path": KESTRA_STORAGE_DIR}}

    kestra: dict = {
        "server": {"basic-auth": {"username": settings.kestra_username,
                                  "password": placeholder(KESTRA_PASSWORD)}},
        "repository": {"type": "postgres"},
        "queue": {"type": "postgres"},
        "storage": storage,
        "tutorial-flows": {"enabled": False},
        "anonymous-usage-report": {"enabled": False},
        "plugins": {"defaults": plugin_defaults},
    }
    if settings.enable_docker_task_runner:
        kestra["tasks"] = {"tmp-dir": {"path": f"{KESTRA_WORKING_DIR}/tmp"}}
    document = {
        "datasources": {
            "postgres": {
                "url": f"jdbc:postgresql://{KESTRA_POSTGRES}:{POSTGRES_PORT}/{KESTRA_DATABASE}",
                "driver-class-name": "org.postgresql.Driver",
                "username": KESTRA_DB_USER,
                "password": placeholder(KESTRA_DB_PASSWORD),
            }
        },
        "kestra": kestra,
    }
    return yaml.safe_dump(document, sort_keys=False)


def _postgres(name: str, image: str, database: str, user: str, password_secret: str,
              ports: tuple[Port, ...]) -> Service:
    return Service(
        name=name,
        image=image,
        command=(),
        environment=MappingProxyType({
            "POSTGRES_DB": database,
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": placeholder(password_secret),
        }),
        ports=ports,
        # Postgres 18+ images keep data under /var/lib/postgresql (a mount at .../data is refused).
        volumes=(VolumeMount(f"{name}-data", "/var/lib/postgresql"),),
        files=(),
        healthcheck=Healthcheck(test=("CMD", "pg_isready", "-h", "127.0.0.1", "-U", user, "-d", database),
                                interval_s=5, timeout_s=5, retries=12, start_period_s=10),
        depends_on=(),
        restart="unless-stopped",
        # PostgreSQL's parallel queries keep their shared state in /dev/shm (a parallel hash join its whole
        # hash table); Docker's 64 MB default can fail them with "could not resize shared memory segment"
        shm_size_mb=POSTGRES_SHM_SIZE_MB,
    )


def _kestra(settings: Settings, bind_address: str) -> Service:
    bind_mounts: tuple[BindMount, ...] = ()
    if settings.enable_docker_task_runner:
        bind_mounts = (BindMount(DOCKER_SOCKET, DOCKER_SOCKET),
                       BindMount(KESTRA_WORKING_DIR, KESTRA_WORKING_DIR))
    return Service(
        name=KESTRA,
        image=settings.images.kestra,
        command=("server", "standalone"),
        environment=MappingProxyType({
            "KESTRA_CONFIGURATION": kestra_configuration(settings),
            f"SECRET_{TAXI_POSTGRES_PASSWORD_SECRET}": placeholder(TAXI_DB_PASSWORD_BASE64),
        }),
        ports=(Port(bind_address, settings.ports.kestra, KESTRA_API_PORT),),
        volumes=(VolumeMount("kestra-storage", KESTRA_STORAGE_DIR),),
        files=(),
        # The image has bash but no guaranteed curl; ask the management port (never published).
        healthcheck=Healthcheck(
            test=("CMD", "bash", "-c",
                  "exec 3<>/dev/tcp/127.0.0.1/8081 && "
                  "printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"),
            interval_s=10, timeout_s=5, retries=30, start_period_s=60),
        depends_on=(KESTRA_POSTGRES, TAXI_POSTGRES),
        restart="unless-stopped",
        # As in Kestra's own compose file: named volumes mount root-owned, and the Docker socket
        # (when enabled) is root's.
        user="root",
        bind_mounts=bind_mounts,
    )


def _pgadmin(settings: Settings, bind_address: str) -> Service:
    return Service(
        name=PGADMIN,
        image=settings.images.pgadmin,
        command=(),
        environment=MappingProxyType({
            "PGADMIN_DEFAULT_EMAIL": settings.pgadmin_email,
            "PGADMIN_DEFAULT_PASSWORD": placeholder(PGADMIN_PASSWORD),
            "PGADMIN_SERVER_JSON_FILE": PGADMIN_SERVERS_FILE,
            "PGADMIN_REPLACE_SERVERS_ON_STARTUP": "True",
            "PGPASS_FILE": PGADMIN_PASSFILE,
            "PGADMIN_DISABLE_POSTFIX": "true",
            "PGADMIN_CONFIG_UPGRADE_CHECK_ENABLED": "False",
        }),
        ports=(Port(bind_address, settings.ports.pgadmin, PGADMIN_CONTAINER_PORT),),
        # The image's /var/lib/pgadmin belongs to uid 5050; a named volume inherits that owner.
        volumes=(VolumeMount("pgadmin-data", "/var/lib/pgadmin"),),
        files=(
            File(PGADMIN_SERVERS_FILE, pgadmin_servers_json(), 0o644, owner=PGADMIN_UID),
            File(PGADMIN_PASSFILE,
                 pgpass_line(TAXI_POSTGRES, POSTGRES_PORT, PGPASS_ANY_DATABASE, TAXI_USER,
                             placeholder(TAXI_DB_PASSWORD)),
                 0o600, owner=PGADMIN_UID),
        ),
        healthcheck=Healthcheck(test=("CMD", "wget", "-q", "-O", "/dev/null",
                                      "http://127.0.0.1:80/misc/ping"),
                                interval_s=10, timeout_s=5, retries=12, start_period_s=30),
        depends_on=(TAXI_POSTGRES,),
        restart="unless-stopped",
    )


def build_service_set(settings: Settings) -> ServiceSet:
    """The four services, their published ports on settings.bind_address."""
    address = settings.bind_address
    services = (
        _postgres(KESTRA_POSTGRES, settings.images.postgres, KESTRA_DATABASE, KESTRA_DB_USER,
                  KESTRA_DB_PASSWORD, ports=()),
        _postgres(TAXI_POSTGRES, settings.images.postgres, TAXI_DATABASE, TAXI_USER,
                  TAXI_DB_PASSWORD, ports=(Port(address, settings.ports.postgres, POSTGRES_PORT),)),
        _kestra(settings, address),
        _pgadmin(settings, address),
    )
    volumes = tuple(mount.volume for service in services for mount in service.volumes)
    return ServiceSet(services=services, volumes=volumes, secrets=SECRETS)

