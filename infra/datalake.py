"""The data lake: a GCS bucket, a BigQuery dataset in the same location, and a service account that
can use exactly those two (plus running BigQuery jobs, the one role that only exists per project)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

# On the bucket only: objectAdmin (the flows upload and replace objects) and legacyBucketReader, the
# narrowest predefined role with storage.buckets.get (with storage.objects.list, which objectAdmin has
# already), which BigQuery needs to create the external tables of 06_gcp_taxi
# (cloud.google.com/bigquery/docs/external-data-cloud-storage, "Required roles"). Its ACL mirroring does
# not apply: the bucket has uniform bucket-level access.
BUCKET_ROLES = {"object-admin": "roles/storage.objectAdmin", "reader": "roles/storage.legacyBucketReader"}
DATASET_ROLE = "roles/bigquery.dataEditor"
PROJECT_ROLE = "roles/bigquery.jobUser"


@dataclass(frozen=True)
class DataLakeArgs:
    project: str
    location: str
    bucket_name: str
    dataset_id: str
    # True: bucket without force_destroy and dataset contents kept on destroy.
    protect_data: bool
    labels: Mapping[str, str]
    # A JSON key for the service account, for targets whose Kestra cannot use an attached identity.
    create_key: bool
    account_id: str


def service_account_id(stack: str) -> str:
    """A valid account id (6-30 chars, [a-z][a-z0-9-]*[a-z0-9]) unique per stack in a project."""
    slug = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-")
    return f"kestra-{slug}"[:30].rstrip("-")


class DataLake(pulumi.ComponentResource):
    bucket: gcp.storage.Bucket
    dataset: gcp.bigquery.Dataset
    service_account: gcp.serviceaccount.Account
    key: gcp.serviceaccount.Key | None
    service_account_member: pulumi.Output[str]
    credentials: pulumi.Output[dict] | None

    def __init__(self, name: str, args: DataLakeArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kestra-stack:datalake:DataLake", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # With protectData, `pulumi destroy` stops at the data until it is unprotected on purpose.
        data = pulumi.ResourceOptions(parent=self, protect=args.protect_data)
        labels = dict(args.labels)

        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=args.bucket_name,
            project=args.project,
            location=args.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=not args.protect_data,
            labels=labels,
            lifecycle_rules=[gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=1),
            )],
            opts=data,
        )
        self.dataset = gcp.bigquery.Dataset(
            f"{name}-dataset",
            dataset_id=args.dataset_id,
            project=args.project,
            location=args.location,
            labels=labels,
            delete_contents_on_destroy=not args.protect_data,
            opts=data,
        )
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=args.account_id,
            project=args.project,
            display_name="Kestra (kestra-stack): the data lake's bucket and dataset",
            opts=child,
        )
        self.service_account_member = self.service_account.email.apply(
            lambda email: f"serviceAccount:{email}")

        for role_name, role in BUCKET_ROLES.items():
            gcp.storage.BucketIAMMember(
                f"{name}-bucket-{role_name}",
                bucket=self.bucket.name,
                role=role,
                member=self.service_account_member,
                opts=child,
            )
        gcp.bigquery.DatasetIamMember(
            f"{name}-dataset-editor",
            project=args.project,
            dataset_id=self.dataset.dataset_id,
            role=DATASET_ROLE,
            member=self.service_account_member,
            opts=child,
        )
        gcp.projects.IAMMember(
            f"{name}-bigquery-job-user",
            project=args.project,
            role=PROJECT_ROLE,
            member=self.service_account_member,
            opts=child,
        )

        self.key = None
        self.credentials = None
        if args.create_key:
            self.key = gcp.serviceaccount.Key(
                f"{name}-sa-key",
                service_account_id=self.service_account.name,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["private_key"]),
            )
            self.credentials = pulumi.Output.secret(self.key.private_key.apply(
                lambda encoded: json.loads(base64.b64decode(encoded))))

        self.register_outputs({
            "bucket_name": self.bucket.name,
            "dataset_id": self.dataset.dataset_id,
            "service_account_email": self.service_account.email,
        })
