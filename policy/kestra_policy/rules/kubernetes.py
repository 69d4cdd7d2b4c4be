"""What runs in the cluster: the Helm chart and its images pinned, no privileged container by accident.

Kestra's chart 1.0.20 (kestra-io/helm-charts 6e97852, values.yaml): `image.tag` empty means the chart's
appVersion (pinned with the chart version, but only if the chart version is); `dind.enabled` defaults
to true and its sidecar is privileged in both modes, with the moving image tag `dind-rootless`.
"""
from __future__ import annotations

import re
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..config import schema, setting, string_list
from ..images import unpinned_reason
from ..props import UNKNOWN, as_bool, elements, get

# An exact chart version: a range or a wildcard lets `helm upgrade` pick a newer chart.
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
pinned_schema = schema(
    movingTags=string_list(["latest", "dind-rootless", "dind"], "Image tags that move and so do not pin an image."),
)


def _dind(values: Any) -> Any:
    """Whether the chart runs its privileged dind sidecar: True, False, UNKNOWN, or None when the values
    leave it to the chart's default (on)."""
    if values is UNKNOWN:
        return UNKNOWN
    enabled = get(values, "dind", "enabled")
    return None if enabled is None else as_bool(enabled)


def _release_images(values: Any) -> list[tuple[str, Any]]:
    images = [("values.image", get(values, "image"))]
    if _dind(values) in (True, None):  # on, or left to the chart (on)
        mode = get(values, "dind", "mode") or "rootless"
        if mode is UNKNOWN:
            return images
        images.append((f"values.dind.base.{mode}.image", get(values, "dind", "base", mode, "image")))
    return images


def validate_release_pinned(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.HELM_RELEASE:
        return
    version = get(args.props, "version")
    if version is not UNKNOWN and not (isinstance(version, str) and _EXACT_VERSION.match(version)):
        report_violation(f"chart version {version or 'not set'}: not an exact version, so an upgrade may install "
                         "another chart.")
    values = get(args.props, "values")
    if values is UNKNOWN:
        return
    moving = frozenset(tag.lower() for tag in setting(args, pinned_schema, "movingTags"))
    for where, image in _release_images(values):
        tag = get(image, "tag")
        if image is UNKNOWN or tag is UNKNOWN:
            continue
        if not tag:
            default = "the chart's appVersion" if where == "values.image" else "the chart's moving default tag"
            report_violation(f"{where}.tag is not set: the image follows {default}.")
            continue
        reason = unpinned_reason(f"{get(image, 'repository') or 'image'}:{tag}", moving, False)
        if reason:
            report_violation(f"{where}: {reason}.")


helm_release_pinned = ResourceValidationPolicy(
    name="helm-release-pinned",
    description="Helm releases pin an exact chart version and every image tag they run.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_release_pinned,
    config_schema=pinned_schema,
    remediation_steps="Set the release's version to an exact chart version (1.0.20) and values.image.tag (and "
    "dind's image tag, when dind runs) to a version.",
)


def _privileged_containers(spec: Any) -> list[str]:
    containers = elements(get(spec, "containers")) + elements(get(spec, "initContainers"))
    return [str(get(c, "name")) for c in containers
            if as_bool(get(c, "securityContext", "privileged")) is True]


def validate_no_privileged(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type in t.K8S_POD_OWNERS:
        pod = get(args.props, "spec", "template", "spec")
        for name in _privileged_containers(pod):
            report_violation(f"container {name} is privileged: it has the node's full control.")
        for field in ("hostPID", "hostNetwork", "hostIPC"):
            if as_bool(get(pod, field)) is True:
                report_violation(f"{field} is true: the pod shares the node's namespaces.")
    elif args.resource_type == t.HELM_RELEASE and _dind(get(args.props, "values")) is None:
        report_violation("values.dind.enabled is not set, and chart 1.0.20 then runs a privileged Docker-in-Docker "
                         "sidecar next to every worker.")


kubernetes_no_privileged = ResourceValidationPolicy(
    name="kubernetes-no-privileged",
    description="No privileged container or host namespace, and no chart default that starts one unasked.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_no_privileged,
    remediation_steps="Drop privileged and host namespaces; set the Kestra release's dind.enabled explicitly "
    "(kestra-stack:enableDockerTaskRunner decides it).",
)


def validate_docker_in_docker(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type == t.HELM_RELEASE and _dind(get(args.props, "values")) is True:
        report_violation("values.dind.enabled is true (kestra-stack:enableDockerTaskRunner): each worker runs a "
                         "privileged Docker-in-Docker sidecar, and flows' containers run inside it.")


docker_in_docker_privileged = ResourceValidationPolicy(
    name="docker-in-docker-privileged",
    description="Reports the privileged Docker-in-Docker sidecar the Docker task runner needs on GKE.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_docker_in_docker,
    remediation_steps="Leave kestra-stack:enableDockerTaskRunner false unless the dbt flows must run; on Autopilot "
    "it is refused.",
)
