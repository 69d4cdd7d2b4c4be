"""The data lake's bucket: no way around IAM, never public, in the dataset's location."""
from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy, StackValidationPolicy

from .. import types as t
from ..props import UNKNOWN, as_bool, get


def validate_bucket_access(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.BUCKET:
        return
    uniform = as_bool(get(args.props, "uniformBucketLevelAccess"))
    if uniform is not UNKNOWN and uniform is not True:
        report_violation("uniformBucketLevelAccess is not true: object ACLs could grant access that IAM does not show.")
    prevention = get(args.props, "publicAccessPrevention")
    if prevention is not UNKNOWN and prevention != "enforced":
        shown = "unset (inherited)" if prevention is None else repr(prevention)
        report_violation(f"publicAccessPrevention is {shown}, not 'enforced': the bucket could be made public.")


bucket_access = ResourceValidationPolicy(
    name="bucket-uniform-access-and-public-prevention",
    description="Buckets use uniform bucket-level access and enforce public access prevention.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_bucket_access,
    remediation_steps="Create the bucket with uniform_bucket_level_access=True and public_access_prevention='enforced'.",
)


def _location(resource: Any, default: str | None) -> Any:
    value = get(resource.props, "location")
    if value is None:
        return default
    return value.upper() if isinstance(value, str) else UNKNOWN


def validate_same_location(args: Any, report_violation: ReportViolation) -> None:
    buckets = [r for r in args.resources if r.resource_type == t.BUCKET]
    datasets = [r for r in args.resources if r.resource_type == t.DATASET]
    for dataset in datasets:
        dataset_location = _location(dataset, "US")  # BigQuery's default when no location is given
        for bucket in buckets:
            bucket_location = _location(bucket, None)
            if UNKNOWN in (dataset_location, bucket_location) or bucket_location is None:
                continue
            if dataset_location != bucket_location:
                report_violation(
                    f"dataset {dataset.name} is in {dataset_location} but bucket {bucket.name} is in "
                    f"{bucket_location}: BigQuery cannot load from or export to a bucket in another location.",
                    dataset.urn,
                )


same_location = StackValidationPolicy(
    name="bucket-and-dataset-same-location",
    description="The bucket and the BigQuery dataset are in the same location.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_same_location,
    remediation_steps="Give the bucket and the dataset the same location (kestra-stack:gcpLocation).",
)
