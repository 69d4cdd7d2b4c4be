"""Names the data lake derives on its own."""

from __future__ import annotations

import re

import pytest

from infra.datalake import service_account_id

ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")  # GCP's rule for service account ids


@pytest.mark.parametrize("stack, expected", [
    ("dev", "kestra-dev"),
    ("Prod_EU", "kestra-prod-eu"),
    ("a-very-long-stack-name-for-the-team", "kestra-a-very-long-stack-name"),
    ("---", "kestra"),
])
def test_service_account_id_is_valid_and_derived_from_the_stack(stack, expected):
    account_id = service_account_id(stack)
    assert account_id == expected
    assert ACCOUNT_ID.match(account_id)


# Permissions of the predefined roles this project grants on the bucket (cloud.google.com/iam/docs/
# roles-permissions/storage; com.google.cloud.storage.StorageRoles: legacyBucketReader = storage.buckets.get
# + storage.objects.list, objectAdmin = storage.objects.*). A role missing here fails the tests below.
ROLE_PERMISSIONS = {
    "roles/storage.objectAdmin": {"storage.objects.create", "storage.objects.delete", "storage.objects.get",
                                  "storage.objects.list", "storage.objects.update"},
    "roles/storage.legacyBucketReader": {"storage.buckets.get", "storage.objects.list"},
}
# What the flows do with the bucket: upload and replace the CSVs (06_gcp_taxi), and BigQuery external tables
# over them, which need storage.buckets.get, storage.objects.get and (for wildcard URIs) storage.objects.list
# (cloud.google.com/bigquery/docs/external-data-cloud-storage, "Required roles").
NEEDED_ON_BUCKET = {"storage.buckets.get", "storage.objects.get", "storage.objects.list",
                    "storage.objects.create", "storage.objects.delete"}


@pytest.mark.parametrize("variant", ["dev_gcp_plan", "prod_plan"])
def test_the_account_holds_what_bigquery_external_tables_need_on_the_bucket_and_no_more(request, variant):
    plan = request.getfixturevalue(variant)
    (bucket,) = plan.of_type("gcp:storage/bucket:Bucket")
    (account,) = plan.of_type("gcp:serviceaccount/account:Account")
    member = f"serviceAccount:{account.inputs['accountId']}@{account.inputs['project']}.iam.gserviceaccount.com"
    grants = [grant.inputs for grant in plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")]
    assert {grant["bucket"] for grant in grants} == {bucket.inputs["name"]} and {g["member"] for g in grants} == {member}
    roles = sorted(grant["role"] for grant in grants)
    granted = set().union(*(ROLE_PERMISSIONS[role] for role in roles))
    assert NEEDED_ON_BUCKET <= granted
    # Least privilege: no role is there that the others already cover, and none touches the bucket's
    # settings or IAM (storage.buckets.update / setIamPolicy) or is granted above the bucket.
    for role in roles:
        others = set().union(*(ROLE_PERMISSIONS[other] for other in roles if other != role))
        assert not ROLE_PERMISSIONS[role] <= others, role
    assert not granted & {"storage.buckets.update", "storage.buckets.setIamPolicy", "storage.buckets.delete"}
    assert not [r for r in plan.of_type("gcp:projects/iAMMember:IAMMember") if "storage" in r.inputs["role"]]
