"""Images pinned everywhere; the local Docker target publishes ports on loopback only."""
from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..config import boolean, schema, setting, string_list
from ..images import compose_images, unpinned_reason
from ..props import UNKNOWN, as_bool, as_int, elements, get, metadata_texts

images_schema = schema(
    movingTags=string_list(["latest"], "Tags that move and so do not pin an image."),
    requireDigest=boolean(False, "Require every image to be pinned by digest (@sha256:…)."),
)


def _image_references(args: Any) -> list[tuple[str, str]]:
    if args.resource_type == t.REMOTE_IMAGE:
        return [("name", get(args.props, "name"))]
    if args.resource_type == t.CONTAINER:
        return [("image", get(args.props, "image"))]
    if args.resource_type in t.K8S_POD_OWNERS:
        pod = get(args.props, "spec", "template", "spec")
        containers = elements(get(pod, "containers")) + elements(get(pod, "initContainers"))
        return [(f"container {get(c, 'name')}", get(c, "image")) for c in containers]
    if args.resource_type in (t.INSTANCE, t.INSTANCE_TEMPLATE):
        return [(f"{where} (compose)", ref) for where, text in metadata_texts(args.props) for ref in compose_images(text)]
    return []


def validate_images_pinned(args: Any, report_violation: ReportViolation) -> None:
    moving = frozenset(tag.lower() for tag in setting(args, images_schema, "movingTags"))
    require_digest = setting(args, images_schema, "requireDigest")
    for where, reference in _image_references(args):
        if not isinstance(reference, str):
            continue  # unknown until apply (an image id), or not set
        reason = unpinned_reason(reference, moving, require_digest)
        if reason:
            report_violation(f"{where}: {reason}.")


images_pinned = ResourceValidationPolicy(
    name="images-pinned",
    description="Every image is pinned to a version tag or digest: no 'latest', no missing tag.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_images_pinned,
    config_schema=images_schema,
    remediation_steps="Pin kestra-stack:kestraImage, postgresImage and pgadminImage to a version (kestra/kestra:v1.1.6, postgres:18.6) or a digest (name@sha256:…).",
)


ports_schema = schema(
    allowedHostIps=string_list(["127.0.0.1", "::1"], "Host addresses a container port may be published on."),
)


def validate_ports_on_localhost(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.CONTAINER:
        return
    allowed = set(setting(args, ports_schema, "allowedHostIps"))
    if as_bool(get(args.props, "publishAllPorts")) is True:
        report_violation("publishAllPorts is true: every exposed port is published on all host addresses.")
    if get(args.props, "networkMode") == "host":
        report_violation("networkMode is 'host': every port the container listens on is reachable from the network.")
    for port in elements(get(args.props, "ports")):
        host_ip = get(port, "ip")
        if host_ip is UNKNOWN or port is UNKNOWN:
            continue
        if host_ip not in allowed:
            shown = "0.0.0.0 (Docker's default when no ip is set)" if host_ip is None else host_ip
            published, target = as_int(get(port, "external")), as_int(get(port, "internal"))
            report_violation(f"port {published}->{target} is published on {shown}, reachable from other machines.")


ports_on_localhost = ResourceValidationPolicy(
    name="docker-ports-on-localhost",
    description="Local Docker containers publish ports on 127.0.0.1 only.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_ports_on_localhost,
    config_schema=ports_schema,
    remediation_steps="Leave kestra-stack:bindAddress at 127.0.0.1 (the default); from another machine use an SSH tunnel.",
)
