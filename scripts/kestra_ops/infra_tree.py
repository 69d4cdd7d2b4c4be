"""What `ops plan` shows of each planned resource: its place in the tree and the settings that matter.

Only listed, non-secret settings are shown: environment variables and metadata by name, never by value.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol


class Planned(Protocol):
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str | None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _at(inputs: Mapping[str, Any], *path: str) -> Any:
    value: Any = inputs
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _labels(inputs: Mapping[str, Any]) -> str | None:
    labels = inputs.get("labels")
    if isinstance(labels, Mapping) and labels:
        return ",".join(f"{k}={_text(v)}" for k, v in sorted(labels.items()))
    return None


def _ports(inputs: Mapping[str, Any]) -> str | None:
    ports = [f"{_text(p.get('ip', '0.0.0.0'))}:{_text(p.get('external', '?'))}->{_text(p.get('internal', '?'))}"
             for p in inputs.get("ports") or [] if isinstance(p, Mapping)]
    return " ".join(ports) or None


def _env_names(inputs: Mapping[str, Any]) -> str | None:
    names = [str(entry).split("=", 1)[0] for entry in inputs.get("envs") or []]
    return ",".join(sorted(names)) or None


def _external_ip(inputs: Mapping[str, Any]) -> str:
    interfaces = inputs.get("networkInterfaces") or []
    return "yes" if any(isinstance(i, Mapping) and i.get("accessConfigs") for i in interfaces) else "no"


def _shielded(inputs: Mapping[str, Any]) -> str:
    config = inputs.get("shieldedInstanceConfig") or {}
    on = [name for name in ("enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring") if config.get(name) is True]
    return "on" if len(on) == 3 else f"partial ({','.join(on) or 'none'})"


def _allows(inputs: Mapping[str, Any]) -> str | None:
    rules = [f"{a.get('protocol')}:{','.join(_text(p) for p in a.get('ports') or []) or 'all'}"
             for a in inputs.get("allows") or [] if isinstance(a, Mapping)]
    return " ".join(rules) or None


def _joined(*path: str) -> Callable[[Mapping[str, Any]], str | None]:
    def show(inputs: Mapping[str, Any]) -> str | None:
        value = _at(inputs, *path)
        return ",".join(_text(v) for v in value) if isinstance(value, list) and value else None
    return show


def _keys(*path: str) -> Callable[[Mapping[str, Any]], str | None]:
    def show(inputs: Mapping[str, Any]) -> str | None:
        value = _at(inputs, *path)
        return ",".join(sorted(value)) if isinstance(value, Mapping) and value else None
    return show


Setting = tuple[str, "tuple[str, ...] | Callable[[Mapping[str, Any]], str | None]"]

SETTINGS: dict[str, Sequence[Setting]] = {
    "gcp:storage/bucket:Bucket": [("location", ("location",)), ("uniformAccess", ("uniformBucketLevelAccess",)),
                                  ("publicAccessPrevention", ("publicAccessPrevention",)),
                                  ("forceDestroy", ("forceDestroy",)), ("labels", _labels)],
    "gcp:bigquery/dataset:Dataset": [("datasetId", ("datasetId",)), ("location", ("location",)),
                                     ("deleteContentsOnDestroy", ("deleteContentsOnDestroy",)), ("labels", _labels)],
    "gcp:serviceaccount/account:Account": [("accountId", ("accountId",))],
    "gcp:projects/iAMMember:IAMMember": [("role", ("role",)), ("member", ("member",))],
    "gcp:storage/bucketIAMMember:BucketIAMMember": [("role", ("role",)), ("member", ("member",))],
    "gcp:bigquery/datasetIamMember:DatasetIamMember": [("role", ("role",)), ("member", ("member",))],
    "gcp:secretmanager/secretIamMember:SecretIamMember": [("role", ("role",)), ("member", ("member",))],
    "gcp:secretmanager/secret:Secret": [("secretId", ("secretId",)), ("labels", _labels)],
    "gcp:compute/instance:Instance": [("machineType", ("machineType",)), ("zone", ("zone",)),
                                      ("externalIp", _external_ip), ("shielded", _shielded),
                                      ("serviceAccount", ("serviceAccount", "email")),
                                      ("metadata", _keys("metadata")), ("labels", _labels)],
    "gcp:compute/disk:Disk": [("sizeGb", ("size",)), ("type", ("type",)), ("deletionPolicy", ("deletionPolicy",)),
                              ("labels", _labels)],
    "gcp:compute/firewall:Firewall": [("direction", ("direction",)), ("sources", _joined("sourceRanges")),
                                      ("allows", _allows), ("targets", _joined("targetServiceAccounts"))],
    "gcp:compute/subnetwork:Subnetwork": [("cidr", ("ipCidrRange",)), ("region", ("region",))],
    "random:index/randomPassword:RandomPassword": [("length", ("length",))],
    "docker:index/remoteImage:RemoteImage": [("image", ("name",))],
    "docker:index/container:Container": [("name", ("name",)), ("ports", _ports), ("env", _env_names),
                                         ("restart", ("restart",))],
    "docker:index/volume:Volume": [("name", ("name",))],
    "docker:index/network:Network": [("name", ("name",))],
}


def settings(resource: Planned) -> dict[str, str]:
    shown: dict[str, str] = {}
    for label, how in SETTINGS.get(resource.type, ()):
        value = how(resource.inputs) if callable(how) else _at(resource.inputs, *how)
        if value is not None:
            shown[label] = _text(value)
    return shown


def render(resources: Sequence[Planned]) -> list[str]:
    """The resources as a tree by parent, in registration order: `name  type  key=value …`."""
    names = {r.name for r in resources}
    children: dict[str | None, list[Planned]] = {}
    for resource in resources:
        parent = resource.parent if resource.parent in names else None
        children.setdefault(parent, []).append(resource)

    lines: list[str] = []

    def walk(parent: str | None, prefix: str) -> None:
        siblings = children.get(parent, [])
        for index, resource in enumerate(siblings):
            last = index == len(siblings) - 1
            shown = " ".join(f"{k}={v}" for k, v in settings(resource).items())
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{resource.name}  {resource.type}" + (f"  {shown}" if shown else ""))
            walk(resource.name, prefix + ("   " if last else "│  "))

    walk(None, "")
    return lines
