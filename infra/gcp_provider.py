"""The one GCP provider every GCP resource of a stack uses, configured from the stack settings only.

Without it the engine's default provider takes `project`, `region` and `zone` from `gcp:*` stack config
or else the environment (GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, CLOUDSDK_CORE_PROJECT;
GOOGLE_REGION, GCLOUD_REGION, CLOUDSDK_COMPUTE_REGION; GOOGLE_ZONE, GCLOUD_ZONE, CLOUDSDK_COMPUTE_ZONE:
pulumi-gcp provider/resources.go at ed6078a), and a resource without `project` fails with
"project: required field is not set" or lands in whatever project the environment names
(terraform-provider-google google/tpgresource/utils.go GetProject at e03b762). An explicit value wins
over those variables; an empty one does not (google/transport/config.go HandleSDKDefaults), so only
known values are set.
"""

from __future__ import annotations

import pulumi_gcp as gcp

from infra.settings import Settings


def gcp_provider(name: str, settings: Settings) -> gcp.Provider:
    """The provider for `settings.gcp_project`: the settings' region, and the zone of the VM (vm target)
    or of the cluster's nodes (gke target); the docker target's data lake has no zonal resource, so it
    needs no zone."""
    if settings.gcp_project is None:
        raise ValueError("a GCP provider needs settings.gcp_project")
    return gcp.Provider(name, project=settings.gcp_project, region=settings.gcp_region, zone=stack_zone(settings))


def stack_zone(settings: Settings) -> str | None:
    if settings.vm is not None:
        return settings.vm.zone
    if settings.gke is not None:
        return settings.gke.zone
    return None
