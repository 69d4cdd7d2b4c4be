"""Reading a VM-target plan: the instance, its metadata, and what Secret Manager holds."""

from __future__ import annotations

from infra.offline import OfflinePlan, PlannedResource

INSTANCE = "gcp:compute/instance:Instance"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"


def instance_of(plan: OfflinePlan) -> PlannedResource:
    (instance,) = plan.of_type(INSTANCE)
    return instance


def metadata(plan: OfflinePlan) -> dict[str, str]:
    return instance_of(plan).inputs["metadata"]


def secret_data(plan: OfflinePlan) -> dict[str, str]:
    """Compose placeholder name -> the value Secret Manager holds for it (via the `kestra-secrets` list)."""
    by_id = {version.name.removesuffix("-version").removeprefix("vm-"): version.inputs["secretData"]
             for version in plan.of_type(SECRET_VERSION)}
    listed = dict(line.split(" ") for line in metadata(plan)["kestra-secrets"].splitlines())
    return {name: by_id[resource.rsplit("/", 1)[-1]] for name, resource in listed.items()}
