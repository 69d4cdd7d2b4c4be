"""Stack settings: the one place that reads pulumi.Config.

`parse_settings` is pure (a plain mapping of config key -> string, as Pulumi hands config to a
program) and returns a frozen, typed `Settings`. Defaults live only in Pulumi.yaml's `config:` block;
a key missing here is an error, not a silent default. Every error names its key:
`kestra-stack:<key>: <reason>`, and never echoes a secret value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from infra.gke.settings import GkeSettings

PROJECT = "kestra-stack"
KESTRA_NAMESPACE = "zoomcamp"

# The only key that may hold a secret; set it with `pulumi config set --secret kestraPassword`.
SECRET_KEYS = frozenset({"kestraPassword"})

# Credentials from the course's compose files and docs: refused wherever they would be used.
COURSE_DEFAULT_PASSWORDS = frozenset({"k3str4", "root", "Admin1234!", "Admin1234", "admin", "postgres"})
COURSE_DEFAULT_EMAILS = frozenset({"admin@admin.com", "admin@kestra.io"})

Target = Literal["docker", "vm", "gke"]
KestraStorage = Literal["local", "gcs"]


class ConfigError(ValueError):
    """Invalid stack config; the message is `kestra-stack:<key>: <reason>` (or `<namespace>:<key>: …` for
    a provider's key such as `docker:host`)."""

    def __init__(self, key: str, reason: str, namespace: str = PROJECT) -> None:
        super().__init__(f"{namespace}:{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Images:
    kestra: str
    postgres: str
    pgadmin: str


@dataclass(frozen=True)
class HostPorts:
    kestra: int
    pgadmin: int
    postgres: int


@dataclass(frozen=True)
class Backfill:
    flow_id: str
    trigger_id: str
    start: str
    end: str
    inputs: Mapping[str, str] | None = None
    labels: Mapping[str, str] | None = None

    def as_output(self) -> dict:
        """The `kestra_backfills` entry: optional keys only when set."""
        entry: dict = {"flow_id": self.flow_id, "trigger_id": self.trigger_id,
                       "start": self.start, "end": self.end}
        if self.inputs:
            entry["inputs"] = dict(self.inputs)
        if self.labels:
            entry["labels"] = dict(self.labels)
        return entry


@dataclass(frozen=True)
class VmSettings:
    zone: str
    machine_type: str
    data_disk_gb: int
    external_ip: bool
    allowed_cidrs: tuple[str, ...]
    kestra_storage: KestraStorage
    tunnel_port: int


@dataclass(frozen=True)
class Settings:
    target: Target
    gcp_project: str | None
    gcp_region: str
    gcp_location: str
    bucket_name: str | None
    dataset_id: str
    protect_data: bool
    labels: Mapping[str, str]
    images: Images
    kestra_username: str
    kestra_password: str | None = field(repr=False)
    pgadmin_email: str
    ports: HostPorts
    bind_address: str
    enable_docker_task_runner: bool
    backfills: tuple[Backfill, ...]
    vm: VmSettings | None
    gke: GkeSettings | None = None

    @property
    def data_lake_enabled(self) -> bool:
        return self.gcp_project is not None

    @property
    def kestra_storage(self) -> KestraStorage:
        if self.gke:
            return "gcs"  # no volume outlives a pod: the data lake's bucket, through Workload Identity
        return self.vm.kestra_storage if self.vm else "local"


# --- field parsers -------------------------------------------------------------------------------


def _required(raw: Mapping[str, str], key: str) -> str:
    if key not in raw:
        raise ConfigError(key, "missing (Pulumi.yaml declares every key with its default)")
    return str(raw[key]).strip()


def _optional(raw: Mapping[str, str], key: str) -> str | None:
    value = str(raw.get(key, "")).strip()
    return value or None


def _bool(raw: Mapping[str, str], key: str) -> bool:
    value = _required(raw, key).lower()
    if value not in {"true", "false"}:
        raise ConfigError(key, "must be true or false")
    return value == "true"


def _int(raw: Mapping[str, str], key: str, low: int, high: int) -> int:
    value = _required(raw, key)
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(key, "must be an integer") from None
    if not low <= number <= high:
        raise ConfigError(key, f"must be between {low} and {high}")
    return number


def _json_list(raw: Mapping[str, str], key: str) -> list:
    value = _required(raw, key)
    try:
        parsed = json.loads(value) if value else []
    except json.JSONDecodeError:
        raise ConfigError(key, "must be a list (YAML sequence or JSON array)") from None
    if not isinstance(parsed, list):
        raise ConfigError(key, "must be a list (YAML sequence or JSON array)")
    return parsed


def _choice(raw: Mapping[str, str], key: str, allowed: tuple[str, ...]) -> str:
    value = _required(raw, key)
    if value not in allowed:
        raise ConfigError(key, f"must be one of {', '.join(allowed)}")
    return value


# --- validators ----------------------------------------------------------------------------------

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
ZONE = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")
MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SPECIAL_USE_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# BigQuery multi-regions; every other BigQuery location is a region. GCS-only locations (dual-regions
# such as NAM4 or us-central1+us-east1, the ASIA multi-region) have no BigQuery counterpart.
BIGQUERY_MULTI_REGIONS = frozenset({"US", "EU"})


def _email(key: str, value: str) -> str:
    if not EMAIL.match(value):
        raise ConfigError(key, "must be an e-mail address (Kestra >= 0.24 requires one for basic auth)")
    if value.lower() in COURSE_DEFAULT_EMAILS:
        raise ConfigError(key, "is the course's default login; choose your own")
    return value


def _pgadmin_email(key: str, value: str) -> str:
    """pgAdmin validates its login with email-validator, which refuses special-use domains."""
    _email(key, value)
    top_level = value.rsplit(".", 1)[-1].lower()
    if top_level in SPECIAL_USE_DOMAINS:
        raise ConfigError(key, f"pgAdmin refuses e-mail addresses under .{top_level}; use a real "
                               "domain or example.com")
    return value


def _kestra_password(key: str, value: str | None) -> str | None:
    if value is None:
        return None
    # Kestra's rule (webserver BasicAuthService: PASSWORD_PATTERN `(?=.{8,})(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9]).*`,
    # whose `.` matches no line break, and at most 256 characters).
    if (len(value) < 8 or not re.search(r"[A-Z]", value) or not re.search(r"[a-z]", value)
            or not re.search(r"[0-9]", value)):
        raise ConfigError(key, "must have at least 8 characters with an upper-case letter, "
                               "a lower-case letter and a digit (Kestra's password policy)")
    if len(value) > 256 or re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", value):
        raise ConfigError(key, "must be at most 256 characters on one line, without control characters "
                               "(Kestra's password policy)")
    if "${" in value:
        raise ConfigError(key, "must not contain '${' (Kestra's configuration reader, Micronaut, takes it "
                               "for a placeholder)")
    if value in COURSE_DEFAULT_PASSWORDS:
        raise ConfigError(key, "is the course's default password; choose your own or leave it "
                               "unset to have one generated")
    return value


def _image(key: str, value: str) -> str:
    if "@sha256:" in value:
        return value  # pinned by digest
    last_part = value.rsplit("/", 1)[-1]
    tag = last_part.split(":", 1)[1] if ":" in last_part else ""
    if not tag:
        raise ConfigError(key, f"image {value!r} has no tag; pin a version (e.g. {value}:<version>)")
    if tag.startswith("latest"):
        raise ConfigError(key, f"image {value!r} uses a moving tag; pin a version")
    return value


def _gcp_location(key: str, value: str) -> str:
    if value.upper() in BIGQUERY_MULTI_REGIONS:
        return value.upper()
    if REGION.match(value.lower()):
        return value.lower()
    raise ConfigError(key, f"{value!r} is not a location BigQuery offers (US, EU or a region such as "
                           "us-central1); the bucket and the dataset must be in the same location, or "
                           "loads fail with 'Cannot read and write in different locations'")


def _bucket_name(key: str, value: str) -> str:
    reasons = []
    if not 3 <= len(value) <= 63:
        reasons.append("must be 3-63 characters")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*[a-z0-9]", value):
        reasons.append("may use only lower-case letters, digits, '-' and '_', starting and ending "
                       "with a letter or digit (dots would need domain verification)")
    if value.startswith("goog") or "google" in value or "g00gle" in value:
        reasons.append("must not start with 'goog' or contain 'google'")
    if reasons:
        raise ConfigError(key, f"{value!r} " + "; ".join(reasons) + " (GCS naming rules; bucket "
                               "names are global, so include something unique such as the project id)")
    return value


def _dataset_id(key: str, value: str) -> str:
    if "-" in value:
        raise ConfigError(key, f"{value!r} contains '-'; BigQuery dataset ids allow only letters, "
                               "digits and underscores (try "
                               f"{value.replace('-', '_')!r})")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,1024}", value):
        raise ConfigError(key, f"{value!r} must be 1-1024 letters, digits or underscores")
    return value


def _labels(raw: Mapping[str, str], key: str) -> Mapping[str, str]:
    labels: dict[str, str] = {}
    for item in _json_list(raw, key):
        name, sep, value = str(item).partition("=")
        if not sep or not LABEL_KEY.match(name) or not LABEL_VALUE.match(value):
            raise ConfigError(key, f"entry {str(item)!r} must be key=value with a lower-case key "
                                   "(letters, digits, '_', '-', starting with a letter) and a value "
                                   "of up to 63 lower-case letters, digits, '_' or '-'")
        labels[name] = value
    return MappingProxyType(labels)


def _timestamp(key: str, where: str, value: object) -> str:
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(key, f"{where} {text!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise ConfigError(key, f"{where} {text!r} needs a UTC offset (e.g. 2019-01-01T00:00:00-05:00)")
    return text


def _string_map(key: str, where: str, value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ConfigError(key, f"{where} must be a map of names to values")
    return MappingProxyType({k: str(v) for k, v in value.items()})


def _backfills(raw: Mapping[str, str], key: str) -> tuple[Backfill, ...]:
    backfills = []
    for index, item in enumerate(_json_list(raw, key)):
        where = f"entry {index}"
        if isinstance(item, str):
            try:
                item = json.loads(item)
            except json.JSONDecodeError:
                raise ConfigError(key, f"{where} is not a JSON object") from None
        if not isinstance(item, dict):
            raise ConfigError(key, f"{where} must be an object with flow_id, trigger_id, start, end")
        unknown = set(item) - {"flow_id", "trigger_id", "start", "end", "inputs", "labels"}
        if unknown:
            raise ConfigError(key, f"{where} has unknown fields {sorted(unknown)}")
        for name in ("flow_id", "trigger_id", "start", "end"):
            if not item.get(name):
                raise ConfigError(key, f"{where} is missing {name}")
        for name in ("flow_id", "trigger_id"):
            if not IDENTIFIER.match(str(item[name])):
                raise ConfigError(key, f"{where} {name} {item[name]!r} is not a valid Kestra id")
        start = _timestamp(key, f"{where} start", item["start"])
        end = _timestamp(key, f"{where} end", item["end"])
        if datetime.fromisoformat(start) >= datetime.fromisoformat(end):
            raise ConfigError(key, f"{where} start must be before end")
        backfills.append(Backfill(
            flow_id=str(item["flow_id"]), trigger_id=str(item["trigger_id"]), start=start, end=end,
            inputs=_string_map(key, f"{where} inputs", item.get("inputs")),
            labels=_string_map(key, f"{where} labels", item.get("labels")),
        ))
    return tuple(backfills)


def _host_ports(raw: Mapping[str, str]) -> HostPorts:
    keys = ("kestraPort", "pgadminPort", "postgresPort")
    ports = {key: _int(raw, key, 1, 65535) for key in keys}
    seen: dict[int, str] = {}
    for key, port in ports.items():
        if port in seen:
            raise ConfigError(key, f"host port {port} is already used by {PROJECT}:{seen[port]}; "
                                   "each service needs its own port")
        seen[port] = key
    return HostPorts(kestra=ports["kestraPort"], pgadmin=ports["pgadminPort"],
                     postgres=ports["postgresPort"])


def _bind_address(raw: Mapping[str, str], key: str) -> str:
    value = _required(raw, key)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ConfigError(key, f"{value!r} is not an IP address (use 127.0.0.1 to stay local)") from None
    return value


def _cidrs(raw: Mapping[str, str], key: str) -> tuple[str, ...]:
    cidrs = []
    for item in _json_list(raw, key):
        try:
            network = ipaddress.ip_network(str(item), strict=True)
        except ValueError:
            raise ConfigError(key, f"{str(item)!r} is not a CIDR range (e.g. 203.0.113.7/32)") from None
        if network.prefixlen == 0:
            raise ConfigError(key, f"{item} opens the VM to the whole internet; list your own ranges")
        cidrs.append(str(network))
    return tuple(cidrs)


def _vm(raw: Mapping[str, str], region: str) -> VmSettings:
    zone = _required(raw, "vmZone")
    match = ZONE.match(zone)
    if not match:
        raise ConfigError("vmZone", f"{zone!r} is not a Compute Engine zone (e.g. us-central1-a)")
    if match.group(1) != region:
        raise ConfigError("vmZone", f"{zone!r} is not in {PROJECT}:gcpRegion {region!r}")
    machine_type = _required(raw, "vmMachineType")
    if not MACHINE_TYPE.match(machine_type):
        raise ConfigError("vmMachineType", f"{machine_type!r} is not a machine type (e.g. e2-standard-2)")
    external_ip = _bool(raw, "vmExternalIp")
    allowed = _cidrs(raw, "vmAllowedCidrs")
    if external_ip and not allowed:
        raise ConfigError("vmAllowedCidrs", "must list the ranges allowed to reach the VM when "
                                            f"{PROJECT}:vmExternalIp is true")
    return VmSettings(
        zone=zone, machine_type=machine_type,
        data_disk_gb=_int(raw, "vmDataDiskGb", 10, 65536),
        external_ip=external_ip, allowed_cidrs=allowed,
        kestra_storage=_choice(raw, "kestraStorage", ("local", "gcs")),  # type: ignore[arg-type]
        tunnel_port=_int(raw, "vmTunnelPort", 1, 65535),
    )


def _gke(raw: Mapping[str, str], region: str) -> GkeSettings:
    from infra.gke.settings import parse_gke  # imports this module's field parsers

    return parse_gke(raw, region)


# --- the parse -----------------------------------------------------------------------------------


def parse_settings(raw: Mapping[str, str]) -> Settings:
    """Validate the whole stack config; raise ConfigError naming the first bad key."""
    target = _choice(raw, "target", ("docker", "vm", "gke"))
    project = _optional(raw, "gcpProject")
    if project is not None and not PROJECT_ID.match(project):
        raise ConfigError("gcpProject", f"{project!r} is not a GCP project id (6-30 lower-case "
                                        "letters, digits or '-', starting with a letter)")
    if target in ("vm", "gke") and project is None:
        raise ConfigError("gcpProject", f"is required for the {target} target")
    region = _required(raw, "gcpRegion")
    if not REGION.match(region):
        raise ConfigError("gcpRegion", f"{region!r} is not a GCP region (e.g. us-central1)")
    location = _gcp_location("gcpLocation", _required(raw, "gcpLocation"))

    bucket = _optional(raw, "bucketName")
    if bucket is None and project is not None:
        bucket = f"{project}-zoomcamp"
    if bucket is not None:
        if project is None:
            raise ConfigError("bucketName", f"needs {PROJECT}:gcpProject (no data lake without a project)")
        bucket = _bucket_name("bucketName", bucket)
    dataset = _dataset_id("datasetId", _required(raw, "datasetId"))

    images = Images(
        kestra=_image("kestraImage", _required(raw, "kestraImage")),
        postgres=_image("postgresImage", _required(raw, "postgresImage")),
        pgadmin=_image("pgadminImage", _required(raw, "pgadminImage")),
    )
    vm = _vm(raw, region) if target == "vm" else None
    gke = _gke(raw, region) if target == "gke" else None
    if target == "docker" and _required(raw, "kestraStorage") != "local":
        raise ConfigError("kestraStorage", "gcs storage is only available on the vm target "
                                           "(it authenticates as the VM's service account)")
    if vm and vm.kestra_storage == "gcs" and project is None:
        raise ConfigError("kestraStorage", f"gcs needs {PROJECT}:gcpProject")

    return Settings(
        target=target,  # type: ignore[arg-type]
        gcp_project=project,
        gcp_region=region,
        gcp_location=location,
        bucket_name=bucket,
        dataset_id=dataset,
        protect_data=_bool(raw, "protectData"),
        labels=_labels(raw, "labels"),
        images=images,
        kestra_username=_email("kestraUsername", _required(raw, "kestraUsername")),
        kestra_password=_kestra_password("kestraPassword", _optional(raw, "kestraPassword")),
        pgadmin_email=_pgadmin_email("pgadminEmail", _required(raw, "pgadminEmail")),
        ports=_host_ports(raw),
        bind_address=_bind_address(raw, "bindAddress"),
        enable_docker_task_runner=_bool(raw, "enableDockerTaskRunner"),
        backfills=_backfills(raw, "backfills"),
        vm=vm,
        gke=gke,
    )


CONFIG_KEYS = (
    "target", "gcpProject", "gcpRegion", "gcpLocation", "bucketName", "datasetId", "protectData",
    "labels", "kestraImage", "postgresImage", "pgadminImage", "kestraUsername", "kestraPassword",
    "pgadminEmail", "kestraPort", "pgadminPort", "postgresPort", "bindAddress",
    "enableDockerTaskRunner", "backfills", "vmZone", "vmMachineType", "vmDataDiskGb", "vmExternalIp",
    "vmAllowedCidrs", "kestraStorage", "vmTunnelPort",
    "gkeMode", "gkeZone", "gkeMinNodes", "gkeMaxNodes", "gkeMachineType", "gkeWebservers", "gkeExecutors",
    "gkeSchedulers", "gkeWorkers", "gkeWorkerThreads", "gkeSqlTier", "gkeDbPoolSize", "gkePortForwardPort",
)


def read_provider_config(namespace: str, keys: tuple[str, ...]) -> dict[str, str]:
    """A provider's `<namespace>:<key>` stack config (for an explicit provider, which does not read it
    itself): key -> string value, only the keys that are set."""
    from pulumi.runtime import config as runtime_config

    values = {key: runtime_config.get_config(f"{namespace}:{key}") for key in keys}
    return {key: value for key, value in values.items() if value is not None}


def read_settings() -> Settings:
    """Read the running stack's config (inside a Pulumi program) and parse it."""
    from pulumi.runtime import config as runtime_config

    # The engine hands secret keys over either way, depending on the language host's version.
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    raw: dict[str, str] = {}
    for key in CONFIG_KEYS:
        full_key = f"{PROJECT}:{key}"
        value = runtime_config.get_config(full_key)
        if value is None:
            continue
        secret = runtime_config.is_config_secret(full_key) or full_key in secret_keys
        if key in SECRET_KEYS and value and not secret:
            raise ConfigError(key, "must be stored encrypted: pulumi config set --secret " + key)
        raw[key] = value
    return parse_settings(raw)
