"""The gke target's settings: parsed from the stack config by infra.settings.parse_settings.

Each refusal is one ConfigError naming its key. The connection check adds up what can be connected to
the Cloud SQL instance at once, during a rolling update, and refuses a config the tier cannot serve.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

GkeMode = Literal["standard", "autopilot"]

# Several executors or schedulers on a JDBC backend can run an execution twice on Kestra 1.1.6:
# kestra-io/kestra#14196 (fixed later by kestra-io/kestra#15710). Lift this once the pinned image has
# the fix.
SINGLETON_ISSUE = "kestra-io/kestra#14196"
# Kubernetes' default Deployment strategy (the chart sets none): RollingUpdate with maxSurge 25%,
# rounded up, so a Deployment can run ceil(replicas / 4) extra pods while it rolls. The executor and the
# scheduler are Recreated instead (infra/gke/kestra_values.py), so two never run at once.
SURGE_FRACTION = 0.25
SINGLETONS = ("executor", "scheduler")
# Connections nobody's pool accounts for: PostgreSQL's superuser_reserved_connections (3, kept for
# Cloud SQL's own maintenance), pgAdmin's sessions (2) and one `ops`/psql session of an operator.
RESERVED_CONNECTIONS = 6

# Cloud SQL for PostgreSQL's default max_connections by instance memory
# (https://cloud.google.com/sql/docs/postgres/quotas, "Maximum concurrent connections"):
# (memory in MiB from, connections).
_CONNECTIONS_BY_MEMORY_MIB = ((0, 25), (1740, 50), (3840, 100), (6144, 200), (7680, 400),
                              (15360, 500), (30720, 600), (61440, 800), (122880, 1000))
SHARED_CORE_MEMORY_MIB = {"db-f1-micro": 614, "db-g1-small": 1740}
CUSTOM_TIER = re.compile(r"^db-custom-(\d+)-(\d+)$")


@dataclass(frozen=True)
class GkeSettings:
    mode: GkeMode
    zone: str  # standard: the zonal cluster's zone; autopilot clusters are regional (gcpRegion)
    region: str
    min_nodes: int
    max_nodes: int
    machine_type: str
    webservers: int
    executors: int
    schedulers: int
    workers: int
    worker_threads: int
    sql_tier: str
    db_pool_size: int
    port_forward_port: int

    @property
    def location(self) -> str:
        return self.region if self.mode == "autopilot" else self.zone

    @property
    def kestra_pods(self) -> Mapping[str, int]:
        """Kestra's Deployments and their replicas (the indexer stays off: the webserver indexes)."""
        return {"webserver": self.webservers, "executor": self.executors, "scheduler": self.schedulers,
                "worker": self.workers}


def sql_max_connections(tier: str) -> int | None:
    """Cloud SQL's default max_connections for `tier`; None for a tier this project does not size."""
    memory = SHARED_CORE_MEMORY_MIB.get(tier)
    match = CUSTOM_TIER.match(tier)
    if match:
        memory = int(match.group(2))
    if memory is None:
        return None
    return max(limit for floor, limit in _CONNECTIONS_BY_MEMORY_MIB if memory >= floor)


def pods_during_rollout(component: str, replicas: int) -> int:
    if component in SINGLETONS:
        return replicas
    return replicas + math.ceil(replicas * SURGE_FRACTION)


def connections_needed(gke: GkeSettings) -> int:
    """Every Kestra pod's pool full during a rolling update, plus one connection per worker thread
    (each JDBC task opens its own to ny_taxi), plus the reserved ones."""
    pods = sum(pods_during_rollout(component, replicas) for component, replicas in gke.kestra_pods.items())
    task_connections = pods_during_rollout("worker", gke.workers) * gke.worker_threads
    return pods * gke.db_pool_size + task_connections + RESERVED_CONNECTIONS


def parse_gke(raw: Mapping[str, str], region: str) -> GkeSettings:
    """The gke keys, read with infra.settings' field parsers (so every message has the same form)."""
    from infra.settings import MACHINE_TYPE, ZONE, ConfigError, _bool, _choice, _int, _required

    mode = _choice(raw, "gkeMode", ("standard", "autopilot"))
    if mode == "autopilot" and _bool(raw, "enableDockerTaskRunner"):
        raise ConfigError("enableDockerTaskRunner", "Autopilot refuses privileged containers and the "
                                                    "chart's Docker-in-Docker sidecar is privileged; use "
                                                    "gkeMode standard or leave the Docker task runner off")
    zone = _required(raw, "gkeZone")
    match = ZONE.match(zone)
    if not match:
        raise ConfigError("gkeZone", f"{zone!r} is not a Compute Engine zone (e.g. us-central1-a)")
    if match.group(1) != region:
        raise ConfigError("gkeZone", f"{zone!r} is not in kestra-stack:gcpRegion {region!r}")
    machine_type = _required(raw, "gkeMachineType")
    if not MACHINE_TYPE.match(machine_type):
        raise ConfigError("gkeMachineType", f"{machine_type!r} is not a machine type (e.g. e2-standard-4)")
    min_nodes = _int(raw, "gkeMinNodes", 1, 100)
    max_nodes = _int(raw, "gkeMaxNodes", 1, 100)
    if max_nodes < min_nodes:
        raise ConfigError("gkeMaxNodes", f"must be at least kestra-stack:gkeMinNodes ({min_nodes})")
    for key in ("gkeExecutors", "gkeSchedulers"):
        if _int(raw, key, 1, 100) != 1:
            raise ConfigError(key, "must be 1: several executors or schedulers on a JDBC backend can run "
                                   f"an execution twice on Kestra 1.1.6 ({SINGLETON_ISSUE})")
    tier = _required(raw, "gkeSqlTier")
    limit = sql_max_connections(tier)
    if limit is None:
        raise ConfigError("gkeSqlTier", f"{tier!r} is not a Cloud SQL Enterprise tier this stack sizes "
                                        "(db-f1-micro, db-g1-small or db-custom-<vCPUs>-<MiB>)")
    gke = GkeSettings(
        mode=mode,  # type: ignore[arg-type]
        zone=zone, region=region, min_nodes=min_nodes, max_nodes=max_nodes, machine_type=machine_type,
        webservers=_int(raw, "gkeWebservers", 1, 20), executors=1, schedulers=1,
        workers=_int(raw, "gkeWorkers", 1, 50), worker_threads=_int(raw, "gkeWorkerThreads", 1, 256),
        sql_tier=tier, db_pool_size=_int(raw, "gkeDbPoolSize", 2, 100),
        port_forward_port=_int(raw, "gkePortForwardPort", 1, 65535),
    )
    needed = connections_needed(gke)
    if needed > limit:
        raise ConfigError("gkeDbPoolSize", f"{gke.db_pool_size} connections per Kestra pod add up to "
                                           f"{needed} during a rolling update (pools, one per worker "
                                           f"thread, {RESERVED_CONNECTIONS} reserved) but {tier} allows "
                                           f"{limit}; lower gkeDbPoolSize, gkeWorkers, gkeWorkerThreads or "
                                           "gkeWebservers, or choose a bigger gkeSqlTier")
    return gke
