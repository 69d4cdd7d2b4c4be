"""Reading a VM-target plan: the instance, its metadata, and what Secret Manager holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.offline import OfflinePlan, PlannedResource
from tests.infra.boot_sandbox import BootSandbox

INSTANCE = "gcp:compute/instance:Instance"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"


@dataclass(frozen=True)
class ListedSecret:
    """One line of the `kestra-secrets` metadata, with the value Secret Manager holds for it."""

    kind: str  # "env" or "file"
    name: str
    resource: str
    value: str
    owner: int | None = None
    mode: int | None = None


def instance_of(plan: OfflinePlan) -> PlannedResource:
    (instance,) = plan.of_type(INSTANCE)
    return instance


def metadata(plan: OfflinePlan) -> dict[str, str]:
    return instance_of(plan).inputs["metadata"]


def listed_secrets(plan: OfflinePlan) -> dict[str, ListedSecret]:
    by_id = {version.name.removesuffix("-version").removeprefix("vm-"): version.inputs["secretData"]
             for version in plan.of_type(SECRET_VERSION)}
    listed = {}
    for line in metadata(plan)["kestra-secrets"].splitlines():
        kind, name, resource, *file_mode = line.split(" ")
        owner, mode = (int(file_mode[0]), int(file_mode[1], 8)) if kind == "file" else (None, None)
        listed[name] = ListedSecret(kind, name, resource, by_id[resource.rsplit("/", 1)[-1]], owner, mode)
    return listed


def secret_data(plan: OfflinePlan) -> dict[str, str]:
    """Env secret (compose placeholder) or secret file name -> the value Secret Manager holds for it."""
    return {name: secret.value for name, secret in listed_secrets(plan).items()}


def plan_sandbox(base: Path, plan: OfflinePlan) -> BootSandbox:
    """A boot sandbox whose metadata and Secret Manager hold what the plan gives the VM."""
    listed = listed_secrets(plan)
    return BootSandbox(base, metadata(plan)["kestra-compose"],
                       {name: entry.value for name, entry in listed.items() if entry.kind == "env"},
                       {name: (entry.value, entry.owner, entry.mode) for name, entry in listed.items()
                        if entry.kind == "file"})
