"""One explicit GCP provider, built from the stack settings, manages every GCP resource: nothing depends on
`gcp:project` stack config or on the environment of whoever runs `pulumi up`.

Why (pulumi-gcp provider/resources.go, commit ed6078a: the provider's `project`/`region`/`zone` default to
GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, CLOUDSDK_CORE_PROJECT / GOOGLE_REGION, GCLOUD_REGION,
CLOUDSDK_COMPUTE_REGION / GOOGLE_ZONE, GCLOUD_ZONE, CLOUDSDK_COMPUTE_ZONE; terraform-provider-google
google/tpgresource/utils.go `GetProject`, commit e03b762: a resource without `project` takes the provider's,
else fails with "project: required field is not set")."""

from __future__ import annotations

import pytest

from infra.offline import OfflinePlan, PlannedResource, load_stack_config, plan_stack
from infra.settings import parse_settings
from tests.infra.raw_config import GCP_PROJECT

GCP_PROVIDER = "pulumi:providers:gcp"
AMBIENT = {
    **dict.fromkeys(("GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"),
                    "ambient-other-project"),
    **dict.fromkeys(("GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"), "asia-east1"),
    **dict.fromkeys(("GOOGLE_ZONE", "GCLOUD_ZONE", "CLOUDSDK_COMPUTE_ZONE"), "asia-east1-b"),
}
PLANS = {"dev": ("dev", {}), "dev_gcp": ("dev", {"gcpProject": GCP_PROJECT}), "prod": ("prod", {}),
         "gke": ("gke", {})}


def gcp_resources(plan: OfflinePlan) -> list[PlannedResource]:
    return [resource for resource in plan.resources if resource.type.startswith("gcp:")]


def expected_provider_inputs(stack: str, config: dict[str, str]) -> dict[str, str]:
    values, _ = load_stack_config(stack, overrides=config)
    settings = parse_settings(values)
    expected = {"project": settings.gcp_project, "region": settings.gcp_region}
    if settings.target != "docker":
        expected["zone"] = (settings.vm or settings.gke).zone
    return expected


@pytest.fixture
def plans(dev_plan, dev_gcp_plan, prod_plan, gke_plan) -> dict[str, OfflinePlan]:
    return {"dev": dev_plan, "dev_gcp": dev_gcp_plan, "prod": prod_plan, "gke": gke_plan}


def assert_all_gcp_resources_target_the_settings(plan: OfflinePlan, expected: dict[str, str]) -> None:
    """Every gcp: resource names the one explicit provider, whose inputs are the settings' project, region
    (and zone on the VM target); a resource's own `project` input, where given, is the same project."""
    resources = gcp_resources(plan)
    if expected["project"] is None:
        assert not resources and not plan.of_type(GCP_PROVIDER)
        return
    (provider,) = plan.of_type(GCP_PROVIDER)
    assert {key: provider.inputs.get(key) for key in expected} == expected
    assert len(resources) >= 7
    unmanaged = [resource.name for resource in resources if resource.provider != provider.name]
    assert unmanaged == []
    wrong_project = [resource.name for resource in resources
                     if resource.inputs.get("project", expected["project"]) != expected["project"]]
    assert wrong_project == []


@pytest.mark.parametrize("variant", list(PLANS))
def test_every_gcp_resource_is_managed_by_the_one_provider_built_from_the_settings(plans, variant):
    assert_all_gcp_resources_target_the_settings(plans[variant], expected_provider_inputs(*PLANS[variant]))


def _without_zone_of_provider(plan: OfflinePlan) -> OfflinePlan:
    resources = tuple(
        PlannedResource(**{**vars(resource), "inputs": {k: v for k, v in resource.inputs.items() if k != "zone"}})
        if resource.type == GCP_PROVIDER else resource
        for resource in plan.resources)
    return OfflinePlan(plan.stack, resources, plan.outputs, plan.secret_outputs)


@pytest.mark.parametrize("variant", list(PLANS))
def test_misleading_ambient_gcp_variables_change_nothing(plans, variant, monkeypatch):
    for name, value in AMBIENT.items():
        monkeypatch.setenv(name, value)
    stack, config = PLANS[variant]
    ambient = plan_stack(stack, config=config)
    expected = expected_provider_inputs(stack, config)
    assert_all_gcp_resources_target_the_settings(ambient, expected)
    if "zone" in expected:
        assert ambient == plans[variant]
    else:
        # A stack without a VM has no zone to give the provider (the terraform provider reads GOOGLE_ZONE
        # even for an empty value: google/transport/config.go HandleSDKDefaults), and none of its resources
        # is zonal, so the ambient zone reaches nothing.
        assert not [resource.name for resource in gcp_resources(ambient) if "zone" in resource.inputs]
        assert _without_zone_of_provider(ambient) == _without_zone_of_provider(plans[variant])
    assert "ambient-other-project" not in repr(ambient) and "asia-east1" not in repr(gcp_resources(ambient))
